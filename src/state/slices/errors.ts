/** The error banner and the notices: errors go to `lastError`, never thrown out of an action. */
import { isCancelled, toUiError } from '../errors';
import type { ErrorSlice, Slice } from '../types';

export function errorSlice(): Slice<ErrorSlice> {
  return (set) => ({
    lastError: null,
    notices: [],
    dismissError: () => set({ lastError: null }),
    reportError: (error, context) => {
      if (isCancelled(error)) return;
      set({ lastError: toUiError(error, context) });
    },
  });
}
