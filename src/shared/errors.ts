/**
 * Errors with stable codes. The code travels as the error's `name` across the worker boundary (Comlink
 * keeps `name` and `message`), so the UI can react to a code and show the message, which is written for
 * the user: what went wrong and what to do.
 */
export const STUDIO_ERROR_CODES = [
  'model-json-invalid',
  'model-metadata-invalid',
  'missing-shard',
  'shard-size-mismatch',
  'weights-mismatch',
  'weights-not-finite',
  'non-finite-output',
  'model-too-large',
  'unsupported-layer',
  'no-conv-layer',
  'bad-input-rank',
  'multiple-inputs',
  'multiple-outputs',
  'model-fetch-failed',
  'model-build-failed',
  'no-model',
  'no-image',
  'image-decode-failed',
  'image-too-large',
  'label-out-of-range',
  'unknown-layer',
  'method-unavailable',
  'backend-unavailable',
  'invalid-input',
  'cancelled',
] as const;

export type StudioErrorCode = (typeof STUDIO_ERROR_CODES)[number];

/** Codes the studio's UI thread raises itself (the engine never throws these). */
export const UI_ERROR_CODES = [
  'catalog-unavailable',
  'sample-fetch-failed',
  'engine-crashed',
  'no-methods',
  'figure-settings',
  'unknown',
] as const;

export type UiErrorCode = (typeof UI_ERROR_CODES)[number];

export class StudioError extends Error {
  readonly code: StudioErrorCode;

  constructor(code: StudioErrorCode, message: string) {
    super(message);
    this.code = code;
    // The name is what survives structured cloning: keep the code there.
    this.name = code;
  }
}

export function isStudioError(error: unknown, code?: StudioErrorCode): error is StudioError {
  return error instanceof Error && (code === undefined ? error instanceof StudioError : error.name === code);
}
