/**
 * Method identifiers: part of the public interface (URLs, saved figures, the command line).
 * Issue 2 implements `cam` and `gradcam`; the rest of the library registers here as it lands.
 */
export const METHOD_IDS = ['cam', 'gradcam'] as const;

export type MethodId = (typeof METHOD_IDS)[number];

export function isMethodId(value: string): value is MethodId {
  return (METHOD_IDS as readonly string[]).includes(value);
}
