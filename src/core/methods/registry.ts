/** Every method, by id. Adding a method: one file with a CamMethod, one line here. */
import { cam } from './cam';
import { gradcam } from './gradcam';
import type { MethodId } from './method-ids';
import type { CamMethod } from './types';

export const METHODS = {
  cam,
  gradcam,
} as const satisfies Record<MethodId, CamMethod>;

export function getMethod(id: MethodId): CamMethod {
  return METHODS[id];
}
