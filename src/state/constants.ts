/**
 * The store's defaults and fixed lists (and the types that come from them). No imports but types.
 */
import type { MethodId } from '../shared/methods';

export const DEFAULT_METHODS: readonly MethodId[] = ['cam', 'gradcam'];
export const DEFAULT_TOP_K = 5;
export const DEFAULT_OPACITY = 0.5;
export const CATALOG_PATH = 'models/catalog.json';

/** The studio's modes, one per use: exploring images, a classroom walkthrough, building figures. */
export const STUDIO_MODES = ['explore', 'classroom', 'figure'] as const;
export type StudioMode = (typeof STUDIO_MODES)[number];

/** What an image dropped during an analysis does: stop it ('supersede') or wait for it ('queue'). */
export type WhileBusy = 'supersede' | 'queue';

/** Steps of the deletion / insertion curves the studio computes. */
export const CURVE_STEPS = 16;

/** The classroom's steps, in order: how a CAM is made, then Grad-CAM's weights, then the MinMax contrast. */
export const WALKTHROUGH_STEPS = ['input', 'features', 'weights', 'sum', 'relu', 'upsample', 'overlay', 'gradcam', 'minmax'] as const;
export type WalkthroughStep = (typeof WALKTHROUGH_STEPS)[number];

/** The weights the middle steps use. */
export const WALKTHROUGH_METHODS = ['cam', 'gradcam', 'minmax-cam'] as const;
export type WalkthroughMethod = (typeof WALKTHROUGH_METHODS)[number];

/** Channels the walkthrough shows as thumbnails. */
export const WALKTHROUGH_CHANNELS = 8;

/** Channels the feature-map inspector shows. */
export const INSPECTOR_CHANNELS = 12;

/** The meta-methods the user switched on (see src/core/methods/meta.ts). */
export interface MetaSettings {
  /** Test-time augmentation: horizontal flip x the default scales (src/shared/options.ts DEFAULT_TTA). */
  tta: boolean;
  /** Noise smoothing: mean over this many noisy copies (0 = off). */
  smoothSamples: number;
}

export const DEFAULT_META_SETTINGS: MetaSettings = { tta: false, smoothSamples: 0 };
