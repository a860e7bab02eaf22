/**
 * The only runtime globals src/core relies on. They exist in every place core runs (browser main thread,
 * Web Worker, Node >= 16); declaring them here, rather than pulling in the DOM or Node libs, keeps the
 * compiler rejecting `document`, `self`, `fs` and the like in core.
 */
declare const performance: { now(): number };
declare class TextDecoder {
  decode(input?: ArrayBuffer | ArrayBufferView): string;
}
