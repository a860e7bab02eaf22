/**
 * Errors as the UI shows them. The worker's errors arrive as `Error`s whose `name` is a
 * StudioErrorCode and whose `message` is written for the user (see src/shared/errors.ts).
 */
import { STUDIO_ERROR_CODES, type StudioErrorCode, type UiErrorCode } from '../shared/errors';

export interface UiError {
  /** A StudioErrorCode from the engine, or a UI-side code. */
  code: StudioErrorCode | UiErrorCode;
  message: string;
  /** What the user was doing, e.g. "Loading model". */
  context: string;
}

const STUDIO_CODES: ReadonlySet<string> = new Set<string>(STUDIO_ERROR_CODES);

export function isStudioCode(name: string): name is StudioErrorCode {
  return STUDIO_CODES.has(name);
}

/** Turns anything thrown into a UiError with a readable message. */
export function toUiError(error: unknown, context: string): UiError {
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)) {
    const e = error as { name?: unknown; message?: unknown };
    const name = typeof e.name === 'string' ? e.name : '';
    const message = typeof e.message === 'string' && e.message.trim() !== '' ? e.message : String(error);
    return { code: isStudioCode(name) ? name : name === 'engine-crashed' ? 'engine-crashed' : 'unknown', message, context };
  }
  return { code: 'unknown', message: typeof error === 'string' ? error : 'Something went wrong.', context };
}

/** True when the error only says a newer request replaced this one: nothing to show. */
export function isCancelled(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'cancelled';
}
