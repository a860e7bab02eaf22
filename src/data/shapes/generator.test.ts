import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  IGNORE_INDEX,
  MAX_OCCLUSION,
  MAX_RADIUS_FRACTION,
  MIN_RADIUS_FRACTION,
  NUM_SHAPE_CLASSES,
  SHAPE_CLASSES,
  SHAPE_EXTENT,
  SHAPE_TESTS,
  SPLIT_SIZE,
  crc32,
  defaultMinVisiblePixels,
  generateScene,
  generateSplitScene,
  labelVector,
  sinCos,
  splitSeed,
  type Scene,
} from './index';
import { decodePng } from '../../shared/png';

const SIZE = 96;
const MIN_VISIBLE = defaultMinVisiblePixels(SIZE);

/** 2000 scenes shared by the statistical tests (generated once, ~4 s). */
let corpus: Scene[] | undefined;
function scenes(): Scene[] {
  corpus ??= Array.from({ length: 2000 }, (_, i) => generateSplitScene('train', i));
  return corpus;
}

function pearson(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i += 1) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('shape scene generator: determinism', () => {
  it('same seed, same bytes (image, mask, labels, objects)', () => {
    for (const seed of [0, 1, 12345, 2_000_007, 0xffffffff]) {
      const a = generateScene(seed);
      const b = generateScene(seed);
      expect(a.image.length).toBe(SIZE * SIZE * 3);
      expect(a.mask.length).toBe(SIZE * SIZE);
      expect(Buffer.from(a.image).equals(Buffer.from(b.image))).toBe(true);
      expect(Buffer.from(a.mask).equals(Buffer.from(b.mask))).toBe(true);
      expect(a.labels).toEqual(b.labels);
      expect(a.objects).toEqual(b.objects);
    }
  });

  it('is pinned: a recipe change is deliberate (then rerun scripts/make-shapes-samples.ts and update these)', () => {
    const scene = generateScene(splitSeed('test', 0));
    // The generator uses only exactly-rounded arithmetic (own sin/cos), so these hold on every engine.
    expect({ image: crc32(new Uint8Array(scene.image.buffer)), mask: crc32(scene.mask), labels: scene.labels }).toMatchInlineSnapshot(`
      {
        "image": 202555439,
        "labels": [
          3,
        ],
        "mask": 4052589648,
      }
    `);
  });

  it('different seeds give different scenes', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed += 1) seen.add(crc32(new Uint8Array(generateScene(seed).image.buffer)));
    expect(seen.size).toBe(200);
  });

  it('the committed sample set is what the generator makes (public/samples/shapes)', () => {
    const directory = join(import.meta.dirname, '..', '..', '..', 'public', 'samples', 'shapes');
    const index = JSON.parse(readFileSync(join(directory, 'index.json'), 'utf8')) as Array<{
      file: string;
      mask: string;
      labels: string[];
      seed: number;
      size: number;
    }>;
    expect(index).toHaveLength(16);
    let bytes = 0;
    for (const name of readdirSync(directory)) bytes += readFileSync(join(directory, name)).length;
    expect(bytes).toBeLessThan(300 * 1024);
    index.forEach((entry, i) => {
      expect(entry.seed).toBe(splitSeed('test', i));
      const scene = generateScene(entry.seed, { size: entry.size });
      expect(entry.labels).toEqual(scene.labels.map((k) => SHAPE_CLASSES[k]));
      const image = decodePng(readFileSync(join(directory, entry.file)));
      const mask = decodePng(readFileSync(join(directory, entry.mask)));
      expect([image.width, image.height, image.colourType]).toEqual([entry.size, entry.size, 2]);
      expect([mask.width, mask.height, mask.colourType]).toEqual([entry.size, entry.size, 3]);
      expect(Buffer.from(image.data).equals(Buffer.from(scene.image))).toBe(true);
      expect(Buffer.from(mask.data).equals(Buffer.from(scene.mask))).toBe(true);
    });
  });
});

describe('shape scene generator: masks and labels', () => {
  it('labels are exactly the classes in the mask, each with >= the minimum visible pixels', () => {
    for (const scene of scenes().slice(0, 500)) {
      const counts = new Array<number>(256).fill(0);
      for (const value of scene.mask) counts[value] = counts[value]! + 1;
      const inMask = [];
      for (let k = 0; k < NUM_SHAPE_CLASSES; k += 1) if (counts[k + 1]! > 0) inMask.push(k);
      expect(inMask, `seed ${scene.seed}`).toEqual(scene.labels);
      for (const k of scene.labels) expect(counts[k + 1]).toBeGreaterThanOrEqual(MIN_VISIBLE);
      // Only background, the label classes and ignore appear.
      for (let value = NUM_SHAPE_CLASSES + 1; value < 255; value += 1) expect(counts[value]).toBe(0);
      // Labels agree with the objects flagged visible.
      expect(scene.labels).toEqual([...new Set(scene.objects.filter((o) => o.visible).map((o) => o.classId))].sort((a, b) => a - b));
      expect([...scene.labels].sort((a, b) => a - b)).toEqual(scene.labels);
    }
  });

  it('an ignore band separates every object from the background and from other objects', () => {
    for (const scene of scenes().slice(0, 300)) {
      const { mask, size } = scene;
      let ignore = 0;
      for (let y = 0; y < size; y += 1) {
        for (let x = 0; x < size; x += 1) {
          const value = mask[y * size + x]!;
          if (value === IGNORE_INDEX) {
            ignore += 1;
            continue;
          }
          // A non-ignore pixel only touches (8-neighbourhood) its own value or ignore.
          for (let dy = -1; dy <= 1; dy += 1) {
            for (let dx = -1; dx <= 1; dx += 1) {
              const n = mask[(y + dy) * size + x + dx];
              if (y + dy < 0 || y + dy >= size || x + dx < 0 || x + dx >= size || n === undefined) continue;
              if (n !== value && n !== IGNORE_INDEX) throw new Error(`seed ${scene.seed}: ${value} touches ${n} at (${x}, ${y})`);
            }
          }
        }
      }
      if (scene.labels.length > 0) expect(ignore).toBeGreaterThan(0);
      // The band is thin: a few pixels per object, never most of the image.
      expect(ignore / (size * size)).toBeLessThan(0.5);
    }
  });

  it('two overlapping objects of the same class are still separated by the band', () => {
    // Find a scene where two visible objects of one class touch; their common border must be 255.
    let found = false;
    for (const scene of scenes()) {
      const visible = scene.objects.filter((o) => o.visible);
      for (let i = 0; i < visible.length && !found; i += 1) {
        for (let j = i + 1; j < visible.length && !found; j += 1) {
          const a = visible[i]!;
          const b = visible[j]!;
          if (a.classId === b.classId && Math.hypot(a.cx - b.cx, a.cy - b.cy) < 0.5 * (a.radius + b.radius)) {
            found = true;
            // Connected components of class pixels (4-connectivity) must be >= 2: the band cuts them apart.
            const { mask, size } = scene;
            const seen = new Uint8Array(size * size);
            let components = 0;
            for (let p = 0; p < size * size; p += 1) {
              if (mask[p] !== a.classId + 1 || seen[p]) continue;
              components += 1;
              const stack = [p];
              seen[p] = 1;
              while (stack.length > 0) {
                const q = stack.pop()!;
                const x = q % size;
                for (const n of [q - size, q + size, x > 0 ? q - 1 : -1, x < size - 1 ? q + 1 : -1]) {
                  if (n >= 0 && n < size * size && !seen[n] && mask[n] === a.classId + 1) {
                    seen[n] = 1;
                    stack.push(n);
                  }
                }
              }
            }
            expect(components, `seed ${scene.seed}`).toBeGreaterThanOrEqual(2);
          }
        }
      }
      if (found) break;
    }
    expect(found).toBe(true);
  });

  it('a lone object is always visible and labelled (the minimum is below the smallest shape)', () => {
    for (let seed = 0; seed < 1000; seed += 1) {
      const scene = generateScene(seed, { minObjects: 1, maxObjects: 1 });
      expect(scene.objects).toHaveLength(1);
      expect(scene.labels, `seed ${seed}`).toEqual([scene.objects[0]!.classId]);
    }
  });

  it('occlusion is bounded: every object keeps at least 1 - MAX_OCCLUSION of the pixels it was painted with', () => {
    let occluded = 0;
    for (const scene of scenes()) {
      for (const object of scene.objects) {
        expect(object.paintedPixels).toBeGreaterThan(0);
        expect(object.ownedPixels, `seed ${scene.seed}`).toBeGreaterThanOrEqual((1 - MAX_OCCLUSION) * object.paintedPixels);
        if (object.ownedPixels < object.paintedPixels) occluded += 1;
      }
      // ownedPixels is what the mask holds for the object (visible pixels plus its share of the ignore band).
      for (const object of scene.objects) expect(object.visiblePixels).toBeLessThanOrEqual(object.ownedPixels);
    }
    // Occlusion still happens, and often.
    expect(occluded).toBeGreaterThan(500);
  });

  it('unbounded occlusion (maxOcclusion 1): fully occluded objects leave the labels and their leftovers are ignored', () => {
    const hidden = Array.from({ length: 1500 }, (_, seed) => generateScene(seed, { maxOcclusion: 1 })).flatMap((scene) =>
      scene.objects.filter((o) => !o.visible).map((o) => ({ scene, o })),
    );
    expect(hidden.length).toBeGreaterThan(0);
    for (const { scene, o } of hidden) {
      expect(o.visiblePixels).toBeLessThan(MIN_VISIBLE);
      // Not labelled unless another, visible object has the same class.
      if (!scene.objects.some((other) => other.visible && other.classId === o.classId)) expect(scene.labels).not.toContain(o.classId);
    }
    expect(() => generateScene(1, { maxOcclusion: 1.5 })).toThrow(RangeError);
  });

  it('1 to 4 objects per scene, each count about equally often (an object that fits nowhere is rare)', () => {
    const histogram = [0, 0, 0, 0, 0];
    for (const scene of scenes()) histogram[scene.objects.length] = histogram[scene.objects.length]! + 1;
    expect(histogram[0]).toBe(0);
    for (let count = 1; count <= 4; count += 1) expect(histogram[count]! / 2000).toBeGreaterThan(0.2);
  });

  it('classes are balanced: 10-15% of object occurrences and 8-20% of labels each (uniform = 12.5%)', () => {
    // ~5000 objects: the standard error of a 12.5% frequency is ~0.5%, so these bounds are >= 5 sigma away.
    const objects = new Array<number>(NUM_SHAPE_CLASSES).fill(0);
    const labels = new Array<number>(NUM_SHAPE_CLASSES).fill(0);
    for (const scene of scenes()) {
      for (const o of scene.objects) objects[o.classId] = objects[o.classId]! + 1;
      for (const k of scene.labels) labels[k] = labels[k]! + 1;
    }
    const totalObjects = objects.reduce((a, b) => a + b, 0);
    const totalLabels = labels.reduce((a, b) => a + b, 0);
    for (let k = 0; k < NUM_SHAPE_CLASSES; k += 1) {
      expect(objects[k]! / totalObjects, SHAPE_CLASSES[k]).toBeGreaterThan(0.1);
      expect(objects[k]! / totalObjects, SHAPE_CLASSES[k]).toBeLessThan(0.15);
      expect(labels[k]! / totalLabels, SHAPE_CLASSES[k]).toBeGreaterThan(0.08);
      expect(labels[k]! / totalLabels, SHAPE_CLASSES[k]).toBeLessThan(0.2);
    }
  });

  it('the background carries no label information (its mean colour does not correlate with any label)', () => {
    // Per scene: mean R, G, B and brightness of the background pixels (mask 0). With n = 2000 an unrelated
    // pair has |r| ~ 0.022 (1 sigma); 0.1 is > 4 sigma even over the 32 pairs tested.
    const features: number[][] = [[], [], [], []];
    const indicators: number[][] = Array.from({ length: NUM_SHAPE_CLASSES }, () => []);
    for (const scene of scenes()) {
      const sum = [0, 0, 0];
      let count = 0;
      for (let p = 0; p < scene.mask.length; p += 1) {
        if (scene.mask[p] !== 0) continue;
        for (let k = 0; k < 3; k += 1) sum[k]! += scene.image[p * 3 + k]!;
        count += 1;
      }
      if (count === 0) continue;
      const mean = sum.map((s) => s / count);
      mean.forEach((m, k) => features[k]!.push(m));
      features[3]!.push((mean[0]! + mean[1]! + mean[2]!) / 3);
      const vector = labelVector(scene.labels);
      for (let k = 0; k < NUM_SHAPE_CLASSES; k += 1) indicators[k]!.push(vector[k]!);
    }
    let strongest = 0;
    for (const feature of features)
      for (const indicator of indicators) strongest = Math.max(strongest, Math.abs(pearson(feature, indicator)));
    expect(strongest).toBeLessThan(0.1);
  });

  it('object colours are not class-specific (mean hue position per class is similar)', () => {
    // Mean of each colour channel per class: all within a narrow band of the overall mean.
    const sums = Array.from({ length: NUM_SHAPE_CLASSES }, () => [0, 0, 0, 0]);
    for (const scene of scenes()) {
      for (const o of scene.objects) {
        const s = sums[o.classId]!;
        for (let k = 0; k < 3; k += 1) s[k]! += o.color[k]!;
        s[3]! += 1;
      }
    }
    for (let channel = 0; channel < 3; channel += 1) {
      const means = sums.map((s) => s[channel]! / s[3]!);
      expect(Math.max(...means) - Math.min(...means)).toBeLessThan(20);
    }
  });
});

describe('shape scene generator: API', () => {
  it('split seeds are disjoint ranges', () => {
    expect(splitSeed('train', 0)).toBe(0);
    expect(splitSeed('validation', 0)).toBe(SPLIT_SIZE);
    expect(splitSeed('test', 0)).toBe(2 * SPLIT_SIZE);
    expect(splitSeed('train', SPLIT_SIZE - 1)).toBeLessThan(splitSeed('validation', 0));
    expect(splitSeed('validation', SPLIT_SIZE - 1)).toBeLessThan(splitSeed('test', 0));
    expect(() => splitSeed('train', SPLIT_SIZE)).toThrow(RangeError);
    expect(() => splitSeed('test', -1)).toThrow(RangeError);
    expect(() => splitSeed('test', 1.5)).toThrow(RangeError);
    const sets = (['train', 'validation', 'test'] as const).map(
      (split) => new Set(Array.from({ length: 1000 }, (_, i) => splitSeed(split, i))),
    );
    for (let a = 0; a < 3; a += 1) for (let b = a + 1; b < 3; b += 1) for (const seed of sets[a]!) expect(sets[b]!.has(seed)).toBe(false);
    expect(generateSplitScene('validation', 3).seed).toBe(SPLIT_SIZE + 3);
  });

  it('labelVector is a multi-hot Float32Array(8)', () => {
    expect(Array.from(labelVector([0, 3, 7]))).toEqual([1, 0, 0, 1, 0, 0, 0, 1]);
    expect(labelVector([])).toHaveLength(8);
    expect(() => labelVector([8])).toThrow(RangeError);
  });

  it('has 8 classes in the documented order', () => {
    expect(SHAPE_CLASSES).toEqual(['circle', 'square', 'triangle', 'star', 'ring', 'cross', 'heart', 'arrow']);
  });

  it('options: other sizes, fixed counts, empty scenes; bad input is refused', () => {
    const big = generateScene(7, { size: 128 });
    expect(big.image.length).toBe(128 * 128 * 3);
    expect(big.mask.length).toBe(128 * 128);
    const many = generateScene(7, { minObjects: 4, maxObjects: 4 });
    expect(many.objects).toHaveLength(4);
    const empty = generateScene(7, { minObjects: 0, maxObjects: 0 });
    expect(empty.labels).toEqual([]);
    expect(empty.mask.every((v) => v === 0)).toBe(true);
    expect(() => generateScene(-1)).toThrow(RangeError);
    expect(() => generateScene(0.5)).toThrow(RangeError);
    expect(() => generateScene(1, { minObjects: 3, maxObjects: 2 })).toThrow(RangeError);
  });

  it('objects stay within SHAPE_EXTENT * radius and have the documented sizes', () => {
    for (let k = 0; k < NUM_SHAPE_CLASSES; k += 1) {
      const test = SHAPE_TESTS[k]!;
      let area = 0;
      const step = 0.01;
      for (let u = -1.5; u <= 1.5; u += step) {
        for (let v = -1.5; v <= 1.5; v += step) {
          if (!test(u, v)) continue;
          area += step * step;
          expect(Math.hypot(u, v), SHAPE_CLASSES[k]).toBeLessThanOrEqual(SHAPE_EXTENT);
        }
      }
      expect(area, SHAPE_CLASSES[k]).toBeGreaterThan(0.9);
      expect(area, SHAPE_CLASSES[k]).toBeLessThan(3.2);
    }
    for (const scene of scenes().slice(0, 100)) {
      for (const o of scene.objects) {
        expect(o.radius).toBeGreaterThanOrEqual(MIN_RADIUS_FRACTION * SIZE);
        expect(o.radius).toBeLessThanOrEqual(MAX_RADIUS_FRACTION * SIZE);
      }
    }
  });

  it('sinCos matches Math.sin/cos to ~1e-13', () => {
    for (let i = -2000; i <= 2000; i += 1) {
      const theta = i * 0.0137;
      const [s, c] = sinCos(theta);
      expect(Math.abs(s - Math.sin(theta))).toBeLessThan(1e-12);
      expect(Math.abs(c - Math.cos(theta))).toBeLessThan(1e-12);
    }
  });

  it('the generator sources use no Node or DOM APIs (they must run in a worker and the browser)', () => {
    const directory = import.meta.dirname;
    for (const name of readdirSync(directory).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'))) {
      const text = readFileSync(join(directory, name), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(text, name).not.toMatch(/from ['"](node:|fs|path|zlib|sharp|react|@tensorflow)/);
      expect(text, name).not.toMatch(/\b(document|window|self|navigator|process|Buffer|require)\b\s*[.(]/);
    }
  });
});
