/** Every method, by id. Adding a method: one CamMethod in its family's file, one line here. */
import { eigencam, eigengradcam } from './eigen';
import { fullgrad } from './fullgrad';
import { dMinmaxGradcam, gradcam, gradcamElementwise, gradcampp, hirescam, layercam, minmaxGradcam, xgradcam } from './gradient';
import type { MethodId } from '../../shared/methods';
import { ablationcam, scorecam } from './perturbation';
import { gradxinput, integratedGradients, saliency, smoothgrad } from './saliency';
import type { CamMethod } from './types';
import { cam, dMinmaxCam, minmaxCam } from './weights';

export const METHODS = {
  cam: cam,
  'minmax-cam': minmaxCam,
  'd-minmax-cam': dMinmaxCam,
  gradcam: gradcam,
  gradcampp: gradcampp,
  xgradcam: xgradcam,
  hirescam: hirescam,
  'gradcam-elementwise': gradcamElementwise,
  layercam: layercam,
  eigencam: eigencam,
  eigengradcam: eigengradcam,
  'minmax-gradcam': minmaxGradcam,
  'd-minmax-gradcam': dMinmaxGradcam,
  scorecam: scorecam,
  ablationcam: ablationcam,
  saliency: saliency,
  gradxinput: gradxinput,
  smoothgrad: smoothgrad,
  'integrated-gradients': integratedGradients,
  fullgrad: fullgrad,
} as const satisfies Record<MethodId, CamMethod>;

export function getMethod(id: MethodId): CamMethod {
  return METHODS[id];
}
