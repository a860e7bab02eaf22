/** The error banner and the notices: errors go to `lastError`, never thrown out of an action. */
import { isCancelled, toUiError } from '../errors';
import type { ErrorSlice, Slice } from '../types';

export function errorSlice(): Slice<ErrorSlice> {
  return (set, get) => ({
    lastError: null,
    notices: [],
    dismissError: () => set({ lastError: null }),
    dismissNotice: (notice) => set({ notices: get().notices.filter((n) => n !== notice) }),
    reportError: (error, context) => {
      if (isCancelled(error)) return;
      set({ lastError: toUiError(error, context) });
    },
  });
}
