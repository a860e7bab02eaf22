/** Access to ../shared/golden/resnet50-imagenet and the fetched ResNet50 for Node tests. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readFloat32 } from '../node/files';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const goldenDir = resolve(repoRoot, '..', 'shared', 'golden', 'resnet50-imagenet');
export const resnetDir = join(repoRoot, 'models', 'resnet50-imagenet');

export interface GoldenImage {
  name: 'chelsea' | 'coffee';
  label: number;
  top5: number[];
}

export function goldenImages(): GoldenImage[] {
  const index = JSON.parse(readFileSync(join(goldenDir, 'golden.json'), 'utf8')) as {
    images: Record<string, { labels: number[]; top5: number[] }>;
  };
  return Object.entries(index.images).map(([name, entry]) => ({
    name: name as GoldenImage['name'],
    label: entry.labels[0] as number,
    top5: entry.top5,
  }));
}

export const goldenFile = (name: string): Float32Array => readFloat32(join(goldenDir, name));

/** Why a real-model test cannot run here, or null when it can. */
export function realModelMissing(): string | null {
  if (!existsSync(goldenDir)) return `golden references not found at ${goldenDir}`;
  if (!existsSync(join(resnetDir, 'model.json')))
    return 'models/resnet50-imagenet is missing: run `npm run setup` (npm test does it first)';
  return null;
}

export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let max = 0;
  for (let index = 0; index < a.length; index += 1) max = Math.max(max, Math.abs((a[index] as number) - (b[index] as number)));
  return max;
}
