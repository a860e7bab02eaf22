/**
 * The command line on the real ResNet50: every method runs and writes the documented JSON; Grad-CAM from
 * the golden input tensor matches pytorch-grad-cam. Runs the CLI as a user would (a child process).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { METHOD_IDS } from '../shared/methods';
import { goldenDir, goldenFile, maxAbsDifference, realModelMissing, repoRoot, resnetDir } from '../testing/golden';
import { temporaryDirectory } from '../testing/temp-dir';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, [join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(repoRoot, 'src', 'cli', 'explain.ts'), ...args], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
  });
const missing = realModelMissing();

interface Output {
  backend: string;
  inputShape: number[];
  predictions: Array<{ label: number; name: string; prob: number }>;
  detected: number[];
  maps: Record<string, Record<string, { shape: number[]; data: number[]; rawMin: number; rawMax: number }>>;
  timingsMs: Record<string, number>;
}

describe.skipIf(missing !== null)(`npm run explain${missing === null ? '' : ` (cannot run: ${missing})`}`, () => {
  it('runs every method on the real ResNet50 from the golden input tensor', async () => {
    const out = join(temporaryDirectory('cam-cli-'), 'out.json');
    await cli([
      '--model',
      resnetDir,
      '--input-tensor',
      join(goldenDir, 'chelsea.x.f32'),
      '--methods',
      'all',
      '--labels',
      '285',
      '--detect',
      'topk:2',
      '--smoothgrad-samples',
      '1',
      '--ig-steps',
      '1',
      '--scorecam-max-channels',
      '16',
      '--out',
      out,
    ]);
    const output = JSON.parse(readFileSync(out, 'utf8')) as Output;
    expect(output.backend).toBe('wasm');
    expect(output.inputShape).toEqual([1, 224, 224, 3]);
    expect(output.predictions[0]).toMatchObject({ label: 285, name: 'Egyptian_cat' });
    expect(output.detected).toEqual([285, 282]);
    expect(Object.keys(output.maps).sort()).toEqual([...METHOD_IDS].sort());
    for (const [method, perLabel] of Object.entries(output.maps)) {
      const map = perLabel['285']!;
      const [h, w] = map.shape as [number, number];
      expect(map.data.length, method).toBe(h * w);
      expect(
        map.data.every((v) => v >= 0 && v <= 1),
        method,
      ).toBe(true);
      expect(output.timingsMs[method], method).toBeGreaterThan(0);
    }
    expect(output.maps['cam']!['285']!.shape).toEqual([7, 7]);
    expect(output.maps['saliency']!['285']!.shape).toEqual([224, 224]);
    expect(maxAbsDifference(output.maps['gradcam']!['285']!.data, goldenFile('chelsea.GradCAM.285.f32'))).toBeLessThanOrEqual(1e-3);
    expect(output.timingsMs['forward']).toBeGreaterThan(0);
  }, 300_000);

  it('decodes an image file and explains the detected labels', async () => {
    const { stdout } = await cli([
      '--model',
      resnetDir,
      '--image',
      join(repoRoot, 'public', 'samples', 'coffee.png'),
      '--methods',
      'gradcam,minmax-cam',
    ]);
    const output = JSON.parse(stdout) as Output;
    expect(output.predictions[0]!.label).toBe(967); // espresso
    expect(output.detected.length).toBe(3); // softmax head: top-3
    expect(Object.keys(output.maps['minmax-cam']!).map(Number).sort()).toEqual([...output.detected].sort());
  }, 120_000);

  it('explains what is wrong with its arguments', async () => {
    await expect(cli(['--model', resnetDir, '--input-tensor', 'x.f32', '--image', 'y.png'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/exactly one of --image and --input-tensor/),
    });
    await expect(cli(['--model', resnetDir, '--image', 'y.png', '--methods', 'gradcam,nope'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown method\(s\): nope/),
    });
  }, 120_000);
});
