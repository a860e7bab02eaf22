/**
 * Deterministic synthetic multi-label scenes with per-pixel ground truth, for training a small classifier
 * and scoring CAM / MinMax-CAM explanations against real masks (pointing game, mIoU of segmentation priors).
 *
 * A scene: a textured background (carries no label information) and 1 to 4 shapes of 8 classes, painted in
 * order (later objects occlude earlier ones). Outputs:
 * - `image`: RGB bytes, row-major, `size * size * 3`; shape edges anti-aliased by 4x4 supersampling;
 * - `mask`: VOC-style class indices, `size * size`: 0 background, k + 1 for class k, 255 "ignore" on a band
 *   around every object border (object/background *and* object/object, even between two objects of the same
 *   class), and on what is left of objects too occluded to count;
 * - `labels`: sorted class ids of the objects that are actually visible (computed from the final mask).
 *
 * Pure TypeScript (no DOM, no Node APIs): runs in Node, in a worker and in the browser. Same seed, same bytes
 * on every engine (see prng.ts: only exactly-rounded arithmetic, own sin/cos).
 *
 * Design choices:
 * - Independent random streams per part of the scene (background / geometry+classes / colours / noise), so
 *   the background is statistically independent of the labels by construction, and so changing, say, the
 *   background recipe does not reshuffle the objects.
 * - Classes are drawn uniformly per object (objects may repeat a class); colours are random HSV with a
 *   minimum distance from the background's mean colour so every shape is visible, never class-specific.
 * - The mask uses each pixel's centre sample ("which object's shape contains the pixel centre, topmost
 *   wins"): unambiguous and consistent with the anti-aliased image, whose mixed pixels all fall inside the
 *   ignore band anyway.
 * - The ignore band is the set of pixels with an 8-neighbour owned by a different object (or background):
 *   one pixel on each side of every border, 2 px in all, like VOC's void outlines. Scoring a CAM against
 *   pixels whose label is ambiguous at this resolution would only add noise.
 * - Occlusion is bounded: a new object is placed only where it leaves every earlier object at least
 *   `1 - maxOcclusion` of the pixels it had when painted (default: at most 35% hidden). Geometry is redrawn up
 *   to {@link PLACEMENT_ATTEMPTS} times; an object that fits nowhere is not painted. Without the bound, a
 *   star reduced to one visible point is still "a star" in the labels: the label would be ambiguous to a
 *   person too, and a classifier trained on it learns noise (measured: the first training runs, with
 *   occlusion unbounded, stalled at a test macro F1 of 0.18).
 * - Visibility: an object is counted only if at least `minVisiblePixels` of its pixels survive in the final
 *   mask (outside the ignore band). Otherwise it is removed from the labels and its remaining pixels become
 *   255, so a classifier is never asked to find a shape that is not really there, and a mask never holds a
 *   class that is not in the labels. With bounded occlusion this only removes objects cut by the frame.
 */
import { NUM_SHAPE_CLASSES, SHAPE_CLASSES, SHAPE_EXTENT, SHAPE_TESTS, type ShapeClassName } from './classes';
import { deriveSeed, Rng, sinCos, TWO_PI } from './prng';

export const BACKGROUND_INDEX = 0;
export const IGNORE_INDEX = 255;
export const DEFAULT_SCENE_SIZE = 96;
/** Object radius (circumscribed, before {@link SHAPE_EXTENT}) as a fraction of the image side. */
export const MIN_RADIUS_FRACTION = 0.16;
export const MAX_RADIUS_FRACTION = 0.3;
/** At 96 px; scaled with the image area for other sizes (see {@link defaultMinVisiblePixels}). */
export const MIN_VISIBLE_PIXELS_96 = 30;
/** Default largest fraction of an object's painted pixels that later objects may cover. */
export const MAX_OCCLUSION = 0.35;
/** Geometry draws per object before it is left out (see {@link SceneOptions.maxOcclusion}). */
export const PLACEMENT_ATTEMPTS = 12;

export interface SceneOptions {
  /** Image side in pixels (square images). Default 96. */
  size?: number;
  /** Default 1. */
  minObjects?: number;
  /** Default 4. */
  maxObjects?: number;
  /** Minimum non-ignore mask pixels for an object to count. Default: {@link defaultMinVisiblePixels}. */
  minVisiblePixels?: number;
  /** Largest fraction of an object's painted pixels later objects may hide (1: unbounded). Default 0.35. */
  maxOcclusion?: number;
}

export interface SceneObject {
  classId: number;
  className: ShapeClassName;
  /** Centre in pixel coordinates (pixel (x, y) covers [x, x + 1) x [y, y + 1)). */
  cx: number;
  cy: number;
  /** Pixels; the shape lies within SHAPE_EXTENT * radius of the centre. */
  radius: number;
  /** Radians, clockwise on screen (y points down). */
  rotation: number;
  /** Base RGB fill (the painted fill has a mild linear shading around this colour). */
  color: [number, number, number];
  /** Pixels whose centre the shape contained when it was painted (within the frame). */
  paintedPixels: number;
  /** Pixels whose centre it still owns at the end (the topmost shape wins): at least (1 - maxOcclusion) * paintedPixels. */
  ownedPixels: number;
  /** Pixels owned by this object outside the ignore band (for a visible object: its pixels in the mask). */
  visiblePixels: number;
  /** visiblePixels >= minVisiblePixels: the object counts for the labels and keeps its mask pixels. */
  visible: boolean;
}

export interface Scene {
  seed: number;
  size: number;
  /** RGB, row-major, size * size * 3. */
  image: Uint8ClampedArray;
  /** Class indices, size * size: 0 background, classId + 1, 255 ignore. */
  mask: Uint8Array;
  /** Sorted, unique class ids of the visible objects. */
  labels: number[];
  /** In painting order (later ones on top), including the invisible ones. */
  objects: SceneObject[];
}

export type Split = 'train' | 'validation' | 'test';
/** Seeds per split: train [0, 1e6), validation [1e6, 2e6), test [2e6, 3e6): disjoint by construction. */
export const SPLIT_SIZE = 1_000_000;
const SPLIT_OFFSET: Record<Split, number> = { train: 0, validation: SPLIT_SIZE, test: 2 * SPLIT_SIZE };

/** The scene seed of example `index` of `split`. */
export function splitSeed(split: Split, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= SPLIT_SIZE) {
    throw new RangeError(`split index must be an integer in [0, ${SPLIT_SIZE}), got ${index}`);
  }
  return SPLIT_OFFSET[split] + index;
}

/** Multi-hot vector of length 8 from class ids. */
export function labelVector(labels: readonly number[]): Float32Array {
  const vector = new Float32Array(NUM_SHAPE_CLASSES);
  for (const label of labels) {
    if (!Number.isInteger(label) || label < 0 || label >= NUM_SHAPE_CLASSES) throw new RangeError(`bad class id ${label}`);
    vector[label] = 1;
  }
  return vector;
}

/** 30 px at 96 px, scaled with the image area, at least 8. */
export function defaultMinVisiblePixels(size: number): number {
  return Math.max(8, Math.round((MIN_VISIBLE_PIXELS_96 * size * size) / (96 * 96)));
}

/** Scene `index` of `split`. */
export function generateSplitScene(split: Split, index: number, options: SceneOptions = {}): Scene {
  return generateScene(splitSeed(split, index), options);
}

// Independent sub-streams of a scene seed.
const STREAM_BACKGROUND = 1;
const STREAM_OBJECTS = 2;
const STREAM_COLOURS = 3;
const STREAM_NOISE = 4;

type Rgb = [number, number, number];

/** HSV in [0, 1] to RGB in [0, 255] (floats). */
function hsv(h: number, s: number, v: number): Rgb {
  const h6 = (h - Math.floor(h)) * 6;
  const sector = Math.floor(h6);
  const f = h6 - sector;
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  const [r, g, b] =
    sector === 0
      ? [v, t, p]
      : sector === 1
        ? [q, v, p]
        : sector === 2
          ? [p, v, t]
          : sector === 3
            ? [p, q, v]
            : sector === 4
              ? [t, p, v]
              : [v, p, q];
  return [r * 255, g * 255, b * 255];
}

function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

/** Smooth periodic wave in [0, 1] with period 1 (triangle wave through smoothstep; no trig needed). */
function wave(t: number): number {
  const f = t - Math.floor(t);
  return smoothstep(f < 0.5 ? 2 * f : 2 - 2 * f);
}

/** Value noise in [0, 1]: random lattice values every `cell` px, smoothstep-bilinear in between. */
function valueNoise(rng: Rng, size: number, cell: number): Float32Array {
  const grid = Math.ceil(size / cell) + 2;
  const lattice = new Float32Array(grid * grid);
  for (let i = 0; i < lattice.length; i += 1) lattice[i] = rng.next();
  const offsetX = rng.next() * cell;
  const offsetY = rng.next() * cell;
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y += 1) {
    const gy = (y + offsetY) / cell;
    const iy = Math.floor(gy);
    const ty = smoothstep(gy - iy);
    for (let x = 0; x < size; x += 1) {
      const gx = (x + offsetX) / cell;
      const ix = Math.floor(gx);
      const tx = smoothstep(gx - ix);
      const a = lattice[iy * grid + ix]!;
      const b = lattice[iy * grid + ix + 1]!;
      const c = lattice[(iy + 1) * grid + ix]!;
      const d = lattice[(iy + 1) * grid + ix + 1]!;
      out[y * size + x] = (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
    }
  }
  return out;
}

/**
 * Background: two random colours mixed by 2-octave value noise, then one of {nothing, soft stripes, soft
 * checker, blotches} in a third colour at low opacity. Soft (smooth) patterns only: hard-edged checker cells
 * would be squares, i.e. a class. Returns the float RGB canvas and the background's mean colour.
 */
function paintBackground(rng: Rng, size: number): { canvas: Float32Array; mean: Rgb } {
  // A base colour and two nearby ones: the texture varies in hue, saturation and value around the base, so
  // it is clearly textured but never as contrasted as an object (objects keep >= ~90 RGB units from its mean).
  const hue = rng.next();
  const saturation = rng.uniform(0, 0.7);
  const value = rng.uniform(0.1, 0.95);
  const near = (hueSpread: number, saturationSpread: number, valueSpread: number): Rgb =>
    hsv(
      hue + rng.uniform(-hueSpread, hueSpread),
      Math.min(1, Math.max(0, saturation + rng.uniform(-saturationSpread, saturationSpread))),
      Math.min(1, Math.max(0, value + rng.uniform(-valueSpread, valueSpread))),
    );
  const c1 = hsv(hue, saturation, value);
  const c2 = near(0.06, 0.15, 0.15);
  const c3 = near(0.12, 0.25, 0.25);
  const cell = rng.uniform(0.12, 0.45) * size;
  const coarse = valueNoise(rng, size, cell);
  const fine = valueNoise(rng, size, cell / 3);
  const pattern = rng.int(4);
  const alpha = rng.uniform(0.15, 0.45);
  const period = rng.uniform(0.06, 0.22) * size;
  const [sa, ca] = sinCos(rng.next() * TWO_PI);
  const phase = rng.next();
  const blotches = pattern === 3 ? valueNoise(rng, size, rng.uniform(0.05, 0.1) * size) : undefined;

  const canvas = new Float32Array(size * size * 3);
  const sum: Rgb = [0, 0, 0];
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const p = y * size + x;
      const n = 0.7 * coarse[p]! + 0.3 * fine[p]!;
      let overlay = 0;
      if (pattern === 1) overlay = wave((x * ca + y * sa) / period + phase);
      else if (pattern === 2) {
        const a = wave((x * ca + y * sa) / period + phase);
        const b = wave((-x * sa + y * ca) / period + phase);
        overlay = a * b + (1 - a) * (1 - b);
      } else if (blotches !== undefined) overlay = blotches[p]! > 0.6 ? 1 : blotches[p]! > 0.5 ? (blotches[p]! - 0.5) * 10 : 0;
      const o = alpha * overlay;
      for (let k = 0; k < 3; k += 1) {
        const base = c1[k]! + (c2[k]! - c1[k]!) * n;
        const value = base + (c3[k]! - base) * o;
        canvas[p * 3 + k] = value;
        sum[k]! += value;
      }
    }
  }
  const count = size * size;
  return { canvas, mean: [sum[0] / count, sum[1] / count, sum[2] / count] };
}

/** A random object colour at least ~90 RGB units from the background's mean (best of 12 tries). */
function objectColour(rng: Rng, background: Rgb): Rgb {
  let best: Rgb = [0, 0, 0];
  let bestDistance = -1;
  for (let attempt = 0; attempt < 12; attempt += 1) {
    const candidate = hsv(rng.next(), rng.uniform(0.3, 1), rng.uniform(0.3, 1));
    const dr = candidate[0] - background[0];
    const dg = candidate[1] - background[1];
    const db = candidate[2] - background[2];
    const distance = dr * dr + dg * dg + db * db;
    if (distance > bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
    if (distance >= 90 * 90) break;
  }
  return best;
}

/** Supersampling grid per pixel for anti-aliased colour edges. */
const SUPERSAMPLE = 4;

/**
 * A deterministic scene from `seed` (an integer in [0, 2^32)). See the module comment for what it contains.
 */
export function generateScene(seed: number, options: SceneOptions = {}): Scene {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
  const size = options.size ?? DEFAULT_SCENE_SIZE;
  const minObjects = options.minObjects ?? 1;
  const maxObjects = options.maxObjects ?? 4;
  const minVisible = options.minVisiblePixels ?? defaultMinVisiblePixels(size);
  const maxOcclusion = options.maxOcclusion ?? MAX_OCCLUSION;
  if (!(maxOcclusion >= 0 && maxOcclusion <= 1)) throw new RangeError(`maxOcclusion must be in [0, 1], got ${maxOcclusion}`);
  if (!Number.isInteger(size) || size < 16 || size > 1024) throw new RangeError(`size must be an integer in [16, 1024], got ${size}`);
  if (!Number.isInteger(minObjects) || !Number.isInteger(maxObjects) || minObjects < 0 || maxObjects < minObjects || maxObjects > 127) {
    throw new RangeError(`need integers 0 <= minObjects <= maxObjects <= 127, got ${minObjects}, ${maxObjects}`);
  }

  const backgroundRng = new Rng(deriveSeed(seed, STREAM_BACKGROUND));
  const objectRng = new Rng(deriveSeed(seed, STREAM_OBJECTS));
  const colourRng = new Rng(deriveSeed(seed, STREAM_COLOURS));
  const noiseRng = new Rng(deriveSeed(seed, STREAM_NOISE));

  const { canvas, mean } = paintBackground(backgroundRng, size);
  const pixels = size * size;
  /** Index of the topmost object whose shape contains the pixel centre; -1 = background. */
  const owner = new Int8Array(pixels).fill(-1);

  const count = minObjects + objectRng.int(maxObjects - minObjects + 1);
  const objects: SceneObject[] = [];
  /** Per placed object: pixels owned right now. */
  const owned: number[] = [];
  for (let attempt = 0, placed = 0; placed < count;) {
    // Geometry and class from the object stream only (labels never depend on the background).
    const classId = objectRng.int(NUM_SHAPE_CLASSES);
    const radius = objectRng.uniform(MIN_RADIUS_FRACTION, MAX_RADIUS_FRACTION) * size;
    // Centres keep at least 60% of the radius inside the frame: shapes may be cut by the border, mildly.
    const margin = 0.6 * radius;
    const cx = objectRng.uniform(margin, size - margin);
    const cy = objectRng.uniform(margin, size - margin);
    const rotation = objectRng.next() * TWO_PI;
    const footprint = shapeFootprint(size, classId, cx, cy, radius, rotation);
    const fits = hidesAtMost(footprint, owner, objects, owned, maxOcclusion);
    attempt += 1;
    if (!fits) {
      if (attempt < PLACEMENT_ATTEMPTS) continue;
      // Fits nowhere: this object is left out (its colour draws are skipped too; streams stay independent).
      attempt = 0;
      placed += 1;
      continue;
    }
    attempt = 0;
    placed += 1;
    const index = objects.length;
    for (const p of footprint) {
      const previous = owner[p]!;
      if (previous >= 0) owned[previous] = owned[previous]! - 1;
    }
    owned.push(footprint.length);
    const colour = objectColour(colourRng, mean);
    const [shadeSin, shadeCos] = sinCos(colourRng.next() * TWO_PI);
    const shade = colourRng.uniform(0, 0.3);
    objects.push({
      classId,
      className: SHAPE_CLASSES[classId]!,
      cx,
      cy,
      radius,
      rotation,
      color: [Math.round(colour[0]), Math.round(colour[1]), Math.round(colour[2])],
      paintedPixels: footprint.length,
      ownedPixels: 0,
      visiblePixels: 0,
      visible: false,
    });
    paintObject(canvas, owner, size, index, classId, cx, cy, radius, rotation, colour, shade * shadeCos, shade * shadeSin);
  }
  objects.forEach((object, index) => {
    object.ownedPixels = owned[index]!;
  });

  // Ignore band: pixels with an 8-neighbour of a different owner (object/background or object/object).
  const mask = new Uint8Array(pixels);
  const band = new Uint8Array(pixels);
  const visiblePixels = new Int32Array(Math.max(1, objects.length));
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const p = y * size + x;
      const o = owner[p]!;
      let border = false;
      for (let dy = -1; dy <= 1 && !border; dy += 1) {
        const ny = y + dy;
        if (ny < 0 || ny >= size) continue;
        for (let dx = -1; dx <= 1; dx += 1) {
          const nx = x + dx;
          if (nx < 0 || nx >= size) continue;
          if (owner[ny * size + nx] !== o) {
            border = true;
            break;
          }
        }
      }
      if (border) band[p] = 1;
      else if (o >= 0) visiblePixels[o] = visiblePixels[o]! + 1;
    }
  }
  const labelSet = new Set<number>();
  objects.forEach((object, index) => {
    object.visiblePixels = visiblePixels[index]!;
    object.visible = object.visiblePixels >= minVisible;
    if (object.visible) labelSet.add(object.classId);
  });
  for (let p = 0; p < pixels; p += 1) {
    const o = owner[p]!;
    if (band[p] === 1) mask[p] = IGNORE_INDEX;
    else if (o < 0) mask[p] = BACKGROUND_INDEX;
    else {
      const object = objects[o]!;
      mask[p] = object.visible ? object.classId + 1 : IGNORE_INDEX;
    }
  }

  // Sensor noise (std drawn per scene, 0.5-4 grey levels), then quantisation.
  const sigma = noiseRng.uniform(0.5, 4);
  const image = new Uint8ClampedArray(pixels * 3);
  for (let i = 0; i < pixels * 3; i += 1) {
    const noise = (noiseRng.next() + noiseRng.next() + noiseRng.next() - 1.5) * 2 * sigma;
    image[i] = Math.round(canvas[i]! + noise); // Uint8ClampedArray clamps to [0, 255].
  }

  return { seed, size, image, mask, labels: [...labelSet].sort((a, b) => a - b), objects };
}

/** Unit-frame inside test of a placed shape at image point (px, py). */
function shapeTest(classId: number, cx: number, cy: number, radius: number, rotation: number): (px: number, py: number) => boolean {
  const test = SHAPE_TESTS[classId]!;
  const [sin, cos] = sinCos(rotation);
  const inverse = 1 / radius;
  // Rotate by -rotation around the centre, scale by 1/r.
  return (px, py) => {
    const dx = px - cx;
    const dy = py - cy;
    return test((dx * cos + dy * sin) * inverse, (-dx * sin + dy * cos) * inverse);
  };
}

/** Indices of the pixels whose centre the shape contains (what {@link paintObject} claims in `owner`). */
function shapeFootprint(size: number, classId: number, cx: number, cy: number, radius: number, rotation: number): number[] {
  const inside = shapeTest(classId, cx, cy, radius, rotation);
  const extent = SHAPE_EXTENT * radius + 1;
  const x0 = Math.max(0, Math.floor(cx - extent));
  const x1 = Math.min(size - 1, Math.ceil(cx + extent));
  const y0 = Math.max(0, Math.floor(cy - extent));
  const y1 = Math.min(size - 1, Math.ceil(cy + extent));
  const pixels: number[] = [];
  for (let y = y0; y <= y1; y += 1) for (let x = x0; x <= x1; x += 1) if (inside(x + 0.5, y + 0.5)) pixels.push(y * size + x);
  return pixels;
}

/** Whether painting `footprint` leaves every earlier object at least (1 - maxOcclusion) of its painted pixels. */
function hidesAtMost(
  footprint: readonly number[],
  owner: Int8Array,
  objects: readonly SceneObject[],
  owned: readonly number[],
  maxOcclusion: number,
): boolean {
  if (footprint.length === 0) return false;
  const covered = new Int32Array(objects.length);
  for (const p of footprint) {
    const previous = owner[p]!;
    if (previous >= 0) covered[previous] = covered[previous]! + 1;
  }
  return objects.every((object, index) => owned[index]! - covered[index]! >= (1 - maxOcclusion) * object.paintedPixels);
}

/**
 * Paints one object onto the float canvas (coverage-weighted, 4x4 supersampling on edge pixels) and claims
 * the pixels whose centre it contains in `owner`. Pixels whose centre and 8 neighbours' centres agree are
 * taken as fully in or out without supersampling (saves ~90% of the shape tests; only sub-pixel slivers
 * lose their faint anti-aliasing).
 */
function paintObject(
  canvas: Float32Array,
  owner: Int8Array,
  size: number,
  index: number,
  classId: number,
  cx: number,
  cy: number,
  radius: number,
  rotation: number,
  colour: Rgb,
  shadeX: number,
  shadeY: number,
): void {
  const inside = shapeTest(classId, cx, cy, radius, rotation);
  const inverse = 1 / radius;
  const extent = SHAPE_EXTENT * radius + 1;
  const x0 = Math.max(0, Math.floor(cx - extent));
  const x1 = Math.min(size - 1, Math.ceil(cx + extent));
  const y0 = Math.max(0, Math.floor(cy - extent));
  const y1 = Math.min(size - 1, Math.ceil(cy + extent));
  if (x1 < x0 || y1 < y0) return;
  // Centre samples on the box grown by one pixel (for the neighbour check).
  const width = x1 - x0 + 3;
  const height = y1 - y0 + 3;
  const centre = new Uint8Array(width * height);
  for (let j = 0; j < height; j += 1) {
    for (let i = 0; i < width; i += 1) centre[j * width + i] = inside(x0 - 1 + i + 0.5, y0 - 1 + j + 0.5) ? 1 : 0;
  }
  const step = 1 / SUPERSAMPLE;
  const samples = SUPERSAMPLE * SUPERSAMPLE;
  for (let y = y0; y <= y1; y += 1) {
    for (let x = x0; x <= x1; x += 1) {
      const c = (y - y0 + 1) * width + (x - x0 + 1);
      const here = centre[c]!;
      let coverage: number;
      if (
        centre[c - 1] === here &&
        centre[c + 1] === here &&
        centre[c - width] === here &&
        centre[c + width] === here &&
        centre[c - width - 1] === here &&
        centre[c - width + 1] === here &&
        centre[c + width - 1] === here &&
        centre[c + width + 1] === here
      ) {
        coverage = here;
      } else {
        let hits = 0;
        for (let sy = 0; sy < SUPERSAMPLE; sy += 1) {
          for (let sx = 0; sx < SUPERSAMPLE; sx += 1) if (inside(x + (sx + 0.5) * step, y + (sy + 0.5) * step)) hits += 1;
        }
        coverage = hits / samples;
      }
      if (here === 1) owner[y * size + x] = index;
      if (coverage === 0) continue;
      // Mild linear shading across the object (a lit surface, direction random).
      const shading = 1 + ((x + 0.5 - cx) * shadeX + (y + 0.5 - cy) * shadeY) * inverse;
      const p = (y * size + x) * 3;
      for (let k = 0; k < 3; k += 1) {
        const value = canvas[p + k]!;
        canvas[p + k] = value + (colour[k]! * shading - value) * coverage;
      }
    }
  }
}
