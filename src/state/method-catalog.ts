/**
 * UI-side facts about the methods: their family (for the grouped picker), a fallback title (before a
 * model is loaded) and whether they are slow. The list shown is always built from the model's
 * `ModelSummary.methods`; ids this table does not know go to an 'Other' group.
 */
import { METHOD_IDS } from '../core/methods/method-ids';
import type { MethodAvailability, MethodId } from '../worker/protocol';

export type MethodFamilyId = 'weights' | 'gradient' | 'perturbation' | 'input-saliency' | 'other';

export interface MethodFamilyInfo {
  id: MethodFamilyId;
  title: string;
  description: string;
}

export const METHOD_FAMILIES: readonly MethodFamilyInfo[] = [
  { id: 'weights', title: 'Weights-based', description: 'The class weights of a GAP → Dense head.' },
  { id: 'gradient', title: 'Gradient-based', description: 'Gradients of the class score at the target layer.' },
  { id: 'perturbation', title: 'Perturbation', description: 'Masked or ablated inputs: many forward passes.' },
  { id: 'input-saliency', title: 'Input saliency', description: 'Gradients at the input pixels (input resolution).' },
  { id: 'other', title: 'Other', description: 'Methods this version of the interface does not group yet.' },
];

export const METHOD_FAMILY: Readonly<Record<string, MethodFamilyId>> = {
  'cam': 'weights',
  'minmax-cam': 'weights',
  'd-minmax-cam': 'weights',
  'gradcam': 'gradient',
  'gradcampp': 'gradient',
  'xgradcam': 'gradient',
  'hirescam': 'gradient',
  'gradcam-elementwise': 'gradient',
  'layercam': 'gradient',
  'eigencam': 'gradient',
  'eigengradcam': 'gradient',
  'minmax-gradcam': 'gradient',
  'd-minmax-gradcam': 'gradient',
  'scorecam': 'perturbation',
  'ablationcam': 'perturbation',
  'saliency': 'input-saliency',
  'gradxinput': 'input-saliency',
  'smoothgrad': 'input-saliency',
  'integrated-gradients': 'input-saliency',
  'fullgrad': 'input-saliency',
};

/** Titles used before a model is loaded (the model's summary carries the engine's titles). */
export const FALLBACK_METHOD_TITLES: Readonly<Record<string, string>> = {
  'cam': 'CAM',
  'minmax-cam': 'MinMax-CAM',
  'd-minmax-cam': 'D-MinMax-CAM',
  'gradcam': 'Grad-CAM',
  'gradcampp': 'Grad-CAM++',
  'xgradcam': 'XGrad-CAM',
  'hirescam': 'HiRes-CAM',
  'gradcam-elementwise': 'Grad-CAM element-wise',
  'layercam': 'Layer-CAM',
  'eigencam': 'Eigen-CAM',
  'eigengradcam': 'Eigen-Grad-CAM',
  'minmax-gradcam': 'MinMax-Grad-CAM',
  'd-minmax-gradcam': 'D-MinMax-Grad-CAM',
  'scorecam': 'Score-CAM',
  'ablationcam': 'Ablation-CAM',
  'saliency': 'Saliency (gradient)',
  'gradxinput': 'Gradient x Input',
  'smoothgrad': 'SmoothGrad',
  'integrated-gradients': 'Integrated Gradients',
  'fullgrad': 'FullGrad',
};

/** Methods that run many forward or backward passes: they report progress and can be cancelled. */
export const SLOW_METHODS: ReadonlySet<string> = new Set(['scorecam', 'ablationcam', 'smoothgrad', 'integrated-gradients']);

export function isSlowMethod(id: string): boolean {
  return SLOW_METHODS.has(id);
}

export function familyOf(id: string): MethodFamilyId {
  return METHOD_FAMILY[id] ?? 'other';
}

export function fallbackTitle(id: string): string {
  return FALLBACK_METHOD_TITLES[id] ?? id;
}

/** The method's title as the model reports it, else the fallback. */
export function methodTitle(id: string, methods: readonly MethodAvailability[] | null | undefined): string {
  return methods?.find((m) => m.id === id)?.title ?? fallbackTitle(id);
}

/** Every known method as available, for the picker before any model is loaded. */
export function placeholderAvailability(): MethodAvailability[] {
  return METHOD_IDS.map((id) => ({ id, title: fallbackTitle(id), available: true }));
}

export interface MethodGroup {
  family: MethodFamilyInfo;
  methods: MethodAvailability[];
}

/** Groups the model's methods by family, families in the fixed order, methods in the model's order; empty groups are left out. */
export function groupMethods(methods: readonly MethodAvailability[]): MethodGroup[] {
  return METHOD_FAMILIES.map((family) => ({ family, methods: methods.filter((m) => familyOf(m.id) === family.id) })).filter(
    (group) => group.methods.length > 0,
  );
}

/** Method ids in the order the picker lists them (family order, then the model's order). */
export function methodOrder(methods: readonly MethodAvailability[]): MethodId[] {
  return groupMethods(methods).flatMap((group) => group.methods.map((m) => m.id));
}
