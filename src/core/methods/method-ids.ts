/**
 * Method identifiers: part of the public interface (URLs, saved figures, the command line).
 */
export const METHOD_IDS = [
  'cam', 'minmax-cam', 'd-minmax-cam',
  'gradcam', 'gradcampp', 'xgradcam', 'hirescam', 'gradcam-elementwise', 'layercam',
  'eigencam', 'eigengradcam', 'minmax-gradcam', 'd-minmax-gradcam',
  'scorecam', 'ablationcam',
  'saliency', 'gradxinput', 'smoothgrad', 'integrated-gradients', 'fullgrad',
] as const;

export type MethodId = (typeof METHOD_IDS)[number];

export function isMethodId(value: string): value is MethodId {
  return (METHOD_IDS as readonly string[]).includes(value);
}
