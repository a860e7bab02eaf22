import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isStudioError } from '../shared/errors';
import { repoRoot } from '../testing/golden';
import { DECODE_MAX_SIDE, planDecode } from './decode-plan';

/** The first bytes of a PNG of the given size: signature and IHDR (all a size reader needs). */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = Buffer.alloc(8 + 25);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write('IHDR', 12, 'ascii');
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes[24] = 8;
  bytes[25] = 2;
  return new Uint8Array(bytes);
}

describe('planDecode', () => {
  it('decodes ordinary images at full size', () => {
    const small = new Uint8Array(readFileSync(join(repoRoot, 'e2e', 'fixtures', 'small.png')));
    expect(planDecode(small)).toEqual({ width: 48, height: 40 });
    expect(planDecode(pngHeader(1, 1))).toEqual({ width: 1, height: 1 });
    expect(planDecode(pngHeader(DECODE_MAX_SIDE, 3000))).toEqual({ width: DECODE_MAX_SIDE, height: 3000 });
  });

  it('decodes images with a side over 4096 px scaled down, aspect kept', () => {
    expect(planDecode(pngHeader(6000, 3000))).toEqual({ width: 6000, height: 3000, resize: { width: 4096, height: 2048 } });
    expect(planDecode(pngHeader(5000, 10000))).toEqual({ width: 5000, height: 10000, resize: { width: 2048, height: 4096 } });
  });

  it('refuses more than 100 megapixels with a message giving the size', () => {
    try {
      planDecode(pngHeader(20000, 20000));
      expect.unreachable('20000 x 20000 must be refused');
    } catch (error) {
      expect(isStudioError(error, 'image-too-large')).toBe(true);
      expect((error as Error).message).toMatch(/20000 x 20000 pixels \(400 megapixels\).*at most 100 megapixels.*1\.6 GB/);
    }
    expect(planDecode(pngHeader(10000, 10000))?.resize).toEqual({ width: 4096, height: 4096 });
  });

  it('leaves what it cannot read to the browser', () => {
    expect(planDecode(new TextEncoder().encode('plain text, not an image'))).toBeNull();
    expect(planDecode(new Uint8Array(0))).toBeNull();
    expect(planDecode(pngHeader(0, 10))).toBeNull();
    expect(planDecode(new Uint8Array(deflateSync(Buffer.alloc(100))))).toBeNull();
  });
});
