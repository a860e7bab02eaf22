/**
 * Synthetic multi-label shape scenes with ground-truth masks (pure TypeScript: Node, worker, browser).
 * See generator.ts for the design and prng.ts for determinism; src/shared/png.ts writes them as files.
 */
export { NUM_SHAPE_CLASSES, SHAPE_CLASSES, SHAPE_EXTENT, SHAPE_TESTS, type ShapeClassName, type ShapeTest } from './classes';
export {
  BACKGROUND_INDEX,
  DEFAULT_SCENE_SIZE,
  IGNORE_INDEX,
  MAX_RADIUS_FRACTION,
  MIN_RADIUS_FRACTION,
  MIN_VISIBLE_PIXELS_96,
  MAX_OCCLUSION,
  PLACEMENT_ATTEMPTS,
  SPLIT_SIZE,
  defaultMinVisiblePixels,
  generateScene,
  generateSplitScene,
  labelVector,
  splitSeed,
  type Scene,
  type SceneObject,
  type SceneOptions,
  type Split,
} from './generator';
export { crc32 } from './checksum';
export { Rng, deriveSeed, mix32, mulberry32, sinCos } from './prng';
