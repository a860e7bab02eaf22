import { describe, expect, it } from 'vitest';
import { parseLabelsFile } from '../shared/metrics/report';
import { batchRate, pairFolderFiles } from './batch';

const blob = (text: string): Blob => new Blob([text]);

describe('pairFolderFiles', () => {
  it('pairs images with x.mask.png beside them or x.png in a VOC mask folder; skips the rest; sorts by path', () => {
    const files = [
      { path: 'set/b.jpg', file: blob('b') },
      { path: 'set/a.png', file: blob('a') },
      { path: 'set/a.mask.png', file: blob('a-mask') },
      { path: 'set/SegmentationClass/b.png', file: blob('b-mask') },
      { path: 'set/c.webp', file: blob('c') },
      { path: 'set/notes.md', file: blob('n') },
    ];
    const { images, skipped } = pairFolderFiles(files);
    expect(images.map((image) => image.name)).toEqual(['set/a.png', 'set/b.jpg', 'set/c.webp']);
    expect(images.map((image) => image.mask === null)).toEqual([false, false, true]);
    expect(images[0]!.mask).toBe(files[2]!.file);
    expect(images[1]!.mask).toBe(files[3]!.file);
    expect(skipped).toBe(1);
  });
});

describe('batchRate', () => {
  it('images per second and time left; nothing before the first image', () => {
    expect(batchRate(0, 10, 1000)).toEqual({ rate: null, secondsLeft: null });
    expect(batchRate(4, 10, 2000)).toEqual({ rate: 2, secondsLeft: 3 });
  });
});

describe('labels files', () => {
  it('pair by name (x.labels.json or x.txt) and parse indices or names, JSON or text', () => {
    const files = [
      { path: 'a.png', file: blob('a') },
      { path: 'a.labels.json', file: blob('[1]') },
      { path: 'b.png', file: blob('b') },
      { path: 'b.txt', file: blob('cat') },
    ];
    const { images } = pairFolderFiles(files);
    expect(images.map((image) => image.labels)).toEqual([files[1]!.file, files[3]!.file]);
    const names = ['dog', 'Cat', 'bird'];
    expect(parseLabelsFile('[2, "dog"]', names)).toEqual([0, 2]);
    expect(parseLabelsFile('cat\nbird, 0\n', names)).toEqual([0, 1, 2]);
    expect(() => parseLabelsFile('["horse"]', names)).toThrow(/unknown label "horse"/);
    expect(() => parseLabelsFile('[7]', names)).toThrow(/unknown label 7/);
    expect(() => parseLabelsFile('{"a": 1}', names)).toThrow();
  });
});
