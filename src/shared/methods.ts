/**
 * Every explanation method's facts, written once: id, title, family, reference, what it needs from the
 * model, the resolution of its maps, whether it is long, and which option family it reads. The core
 * registry adds only each method's computation to these (src/core/methods/registry.ts); the method
 * picker, the command line's `--help`, saved figures, shared links and the README's method table
 * (checked by src/shared/methods.test.ts) all read them from here. TF-free and DOM-free.
 *
 * Adding a method: one descriptor here, its computation in its family's file under src/core/methods/,
 * one line in the registry (and, if it has options, its option family in src/shared/options.ts).
 */

/**
 * What a method needs from the model: the class weights of a GAP -> Dense head, any differentiable head,
 * or bias taps through the whole model (FullGrad; layers models only).
 */
export type MethodRequirement = 'gap-dense-head' | 'differentiable-head' | 'bias-taps';

/** `feature`: maps at the target layer's `[h, w]`; `input`: at the model input's `[H, W]`. */
export type MapResolution = 'feature' | 'input';

export type MethodFamily = 'weights' | 'gradient' | 'perturbation' | 'input-saliency';

/** The option families of src/shared/options.ts a method may read. */
export type OptionFamilyId = 'scorecam' | 'ablation' | 'smoothgrad' | 'integratedGradients';

export interface MethodDescriptor {
  /** Part of the public interface: URLs, saved figures, reports, the command line. */
  readonly id: string;
  readonly title: string;
  readonly family: MethodFamily;
  /** Paper and equation. */
  readonly reference: string;
  /** What the README's method table says about it beyond its title (variants, special cases). */
  readonly summary?: string;
  readonly requires: MethodRequirement;
  readonly resolution: MapResolution;
  /** Runs many forward or backward passes: reports progress and can be cancelled. */
  readonly long: boolean;
  /** The option family it reads, if any. */
  readonly options?: OptionFamilyId;
}

const weights = { family: 'weights', requires: 'gap-dense-head', resolution: 'feature', long: false } as const;
const gradient = { family: 'gradient', requires: 'differentiable-head', resolution: 'feature', long: false } as const;
const inputSaliency = { family: 'input-saliency', requires: 'differentiable-head', resolution: 'input' } as const;

/** The descriptors, in the order methods are listed everywhere (registry order). */
export const METHOD_DESCRIPTORS = [
  {
    id: 'cam',
    title: 'CAM',
    ...weights,
    reference: 'Zhou et al., Learning Deep Features for Discriminative Localization, CVPR 2016, Eq. 2',
  },
  { id: 'minmax-cam', title: 'MinMax-CAM', ...weights, reference: 'David, Pedrini, Dias, MinMax-CAM, VISAPP 2022, Eq. 5' },
  { id: 'd-minmax-cam', title: 'D-MinMax-CAM', ...weights, reference: 'David, Pedrini, Dias, MinMax-CAM (extended), CCIS 2023, Eq. 7' },
  {
    id: 'gradcam',
    title: 'Grad-CAM',
    ...gradient,
    reference: 'Selvaraju et al., Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization, ICCV 2017, Eq. 1-2',
  },
  {
    id: 'gradcampp',
    title: 'Grad-CAM++',
    ...gradient,
    reference: 'Chattopadhyay et al., Grad-CAM++: Generalized Gradient-Based Visual Explanations, WACV 2018, Eq. 19',
    summary: 'the exp(S) closed form, as pytorch-grad-cam',
  },
  { id: 'xgradcam', title: 'XGrad-CAM', ...gradient, reference: 'Fu et al., Axiom-based Grad-CAM, BMVC 2020, Eq. 13' },
  {
    id: 'hirescam',
    title: 'HiRes-CAM',
    ...gradient,
    reference: 'Draelos and Carin, Use HiResCAM instead of Grad-CAM for faithful explanations, arXiv:2011.08891, Eq. 4',
  },
  {
    id: 'gradcam-elementwise',
    title: 'Grad-CAM element-wise',
    ...gradient,
    reference: 'pytorch-grad-cam GradCAMElementWise (Gildenblat et al.); HiRes-CAM with a per-element ReLU',
  },
  {
    id: 'layercam',
    title: 'Layer-CAM',
    ...gradient,
    reference: 'Jiang et al., LayerCAM: Exploring Hierarchical Class Activation Maps for Localization, IEEE TIP 2021, Eq. 5-6',
  },
  {
    id: 'eigencam',
    title: 'Eigen-CAM',
    ...gradient,
    reference: 'Muhammad and Yeasin, Eigen-CAM: Class Activation Map using Principal Components, IJCNN 2020, Eq. 3-4',
    summary: 'class-agnostic: the same map for every label',
  },
  {
    id: 'eigengradcam',
    title: 'Eigen-Grad-CAM',
    ...gradient,
    reference: 'pytorch-grad-cam EigenGradCAM: Eigen-CAM (Muhammad and Yeasin, IJCNN 2020) of gradients x activations',
  },
  { id: 'minmax-gradcam', title: 'MinMax-Grad-CAM', ...gradient, reference: 'David, Pedrini, Dias, MinMax-CAM, VISAPP 2022, Eq. 6-7' },
  {
    id: 'd-minmax-gradcam',
    title: 'D-MinMax-Grad-CAM',
    ...gradient,
    reference: 'David, Pedrini, Dias, MinMax-CAM (extended), CCIS 2023, Eq. 8',
  },
  {
    id: 'scorecam',
    title: 'Score-CAM',
    family: 'perturbation',
    requires: 'differentiable-head',
    resolution: 'feature',
    long: true,
    options: 'scorecam',
    reference: 'Wang et al., Score-CAM, CVPR Workshops 2020, Eq. 5-8',
    summary: 'variants probability, softmax-logits, increase-of-confidence; batched; optional channel cap',
  },
  {
    id: 'ablationcam',
    title: 'Ablation-CAM',
    family: 'perturbation',
    requires: 'differentiable-head',
    resolution: 'feature',
    long: true,
    options: 'ablation',
    reference: 'Desai and Ramaswamy, Ablation-CAM, WACV 2020, Eq. 3',
    summary: 'head only; closed form for GAP -> Dense',
  },
  {
    id: 'saliency',
    title: 'Saliency (gradient)',
    ...inputSaliency,
    long: false,
    reference: 'Simonyan et al., Deep Inside Convolutional Networks, ICLR Workshops 2014, Eq. 2 (max over colour channels)',
  },
  {
    id: 'gradxinput',
    title: 'Gradient x Input',
    ...inputSaliency,
    long: false,
    reference:
      'Shrikumar et al., Not Just a Black Box: Learning Important Features Through Propagating Activation Differences, arXiv:1605.01713, 2016',
  },
  {
    id: 'smoothgrad',
    title: 'SmoothGrad',
    ...inputSaliency,
    long: true,
    options: 'smoothgrad',
    reference: 'Smilkov et al., SmoothGrad: removing noise by adding noise, arXiv:1706.03825, 2017, Eq. 3',
  },
  {
    id: 'integrated-gradients',
    title: 'Integrated Gradients',
    ...inputSaliency,
    long: true,
    options: 'integratedGradients',
    reference: 'Sundararajan et al., Axiomatic Attribution for Deep Networks, ICML 2017, Eq. 3',
    summary: 'reports its completeness gap',
  },
  {
    id: 'fullgrad',
    title: 'FullGrad',
    family: 'input-saliency',
    requires: 'bias-taps',
    resolution: 'input',
    long: false,
    reference: 'Srinivas and Fleuret, Full-Gradient Representation for Neural Network Visualization, NeurIPS 2019, Eq. 3 and 6',
    summary: "the input term plus every layer's bias-gradient term, one backward pass; layers models",
  },
] as const satisfies readonly MethodDescriptor[];

export type MethodId = (typeof METHOD_DESCRIPTORS)[number]['id'];

/** Method ids in registry order. */
export const METHOD_IDS: readonly MethodId[] = METHOD_DESCRIPTORS.map((descriptor) => descriptor.id);

const BY_ID: ReadonlyMap<string, MethodDescriptor & { id: MethodId }> = new Map(
  METHOD_DESCRIPTORS.map((descriptor) => [descriptor.id, descriptor]),
);

export function isMethodId(value: string): value is MethodId {
  return BY_ID.has(value);
}

export function methodDescriptor(id: MethodId): MethodDescriptor & { id: MethodId } {
  return BY_ID.get(id)!;
}

/** The methods in registry order (cam before gradcam) whatever the click order, without repeats; unknown ids last. */
export function orderMethods<T extends string>(methods: readonly T[]): T[] {
  const rank = (id: string): number => {
    const index = (METHOD_IDS as readonly string[]).indexOf(id);
    return index < 0 ? METHOD_IDS.length : index;
  };
  return [...new Set(methods)].sort((a, b) => rank(a) - rank(b));
}

// ---- the method picker's groups ----

export type MethodFamilyId = MethodFamily | 'other';

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

/** What a model says of one method (ModelSummary.methods): the engine's title and whether it can run. */
export interface MethodAvailability {
  id: MethodId;
  title: string;
  available: boolean;
  /** Why a method is absent for this model (e.g. "needs a GAP -> Dense head after the target layer"). */
  reason?: string;
}

/** The family of a method id; ids this version does not know are 'other'. */
export function familyOf(id: string): MethodFamilyId {
  return BY_ID.get(id)?.family ?? 'other';
}

/** True for methods that run many passes (progress and cancel matter). */
export function isSlowMethod(id: string): boolean {
  return BY_ID.get(id)?.long ?? false;
}

/** The method's title as the model reports it, else the descriptor's, else the id. */
export function methodTitle(id: string, methods?: readonly MethodAvailability[] | null): string {
  return methods?.find((m) => m.id === id)?.title ?? BY_ID.get(id)?.title ?? id;
}

/** Every known method as available, for the picker before any model is loaded. */
export function placeholderAvailability(): MethodAvailability[] {
  return METHOD_DESCRIPTORS.map(({ id, title }) => ({ id, title, available: true }));
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

/** The README's method table (a test keeps README.md equal to it). */
export function methodTableMarkdown(): string {
  const family = (id: MethodFamily): string => METHOD_FAMILIES.find((info) => info.id === id)!.title;
  const rows = METHOD_DESCRIPTORS.map((method) => {
    const summary: string | undefined = 'summary' in method ? method.summary : undefined;
    const title = summary === undefined ? method.title : `${method.title} (${summary})`;
    return `| \`${method.id}\` | ${title} | ${family(method.family)} | ${method.reference} |`;
  });
  return ['| id | method | family | reference |', '|---|---|---|---|', ...rows].join('\n');
}
