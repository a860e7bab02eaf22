import { describe, expect, it } from 'vitest';
import { cropAspect, cropFor } from './model-input';

describe('the crop a model sees', () => {
  it('squash takes the whole photo and keeps its aspect ratio for display', () => {
    expect(cropFor(640, 480, 'squash', [224, 224])).toEqual({ x: 0, y: 0, width: 640, height: 480 });
    expect(cropAspect(640, 480, 'squash', [224, 224])).toBeCloseTo(4 / 3, 12);
    expect(cropAspect(213, 427, 'squash', [224, 224])).toBeCloseTo(213 / 427, 12);
  });

  it("centre-crop takes the largest centred region of the input's aspect ratio", () => {
    expect(cropFor(640, 480, 'center-crop', [224, 224])).toEqual({ x: 80, y: 0, width: 480, height: 480 });
    expect(cropFor(300, 500, 'center-crop', [96, 160])).toEqual({ x: 0, y: 160, width: 300, height: 180 });
    expect(cropAspect(640, 480, 'center-crop', [224, 224])).toBe(1);
    expect(cropAspect(300, 500, 'center-crop', [96, 160])).toBeCloseTo(300 / 180, 12);
  });
});
