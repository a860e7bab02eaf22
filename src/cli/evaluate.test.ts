/**
 * `npm run evaluate` on the project's shapes model and its committed sample scenes (with their masks), run
 * as a user would (a child process): the report and the CSV are written, an interrupted run resumes, and the
 * numbers are the same run to run.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { temporaryDirectory } from '../testing/temp-dir';

const root = resolve(import.meta.dirname, '..', '..');
const model = join(root, 'models', 'shapes-resnet');
const samples = join(root, 'public', 'samples', 'shapes');
const present = existsSync(join(model, 'model.json'));
const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'src', 'cli', 'evaluate.ts'), ...args], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });

interface ReportFile {
  images: Array<{ name: string; detected: number[] }>;
  report: {
    images: number;
    detections: number;
    faithfulness: Record<string, Record<string, { macro: number | null; support: number[] }>>;
    localisation?: Record<string, { pointing: { macro: number | null }; segmentation: { meanIou: number | null } }>;
  };
}

describe.skipIf(!present)(
  `npm run evaluate${present ? '' : ' (cannot run: models/shapes-resnet is missing; run npm run train:shapes)'}`,
  () => {
    it('writes the Table-2 report and CSV for a folder with masks, resumes an interrupted run, and repeats its numbers', async () => {
      const dir = temporaryDirectory('cam-evaluate-');
      const common = ['--model', model, '--images', samples, '--masks', samples, '--methods', 'cam,minmax-cam'];
      // "Interrupted" after 3 images, then resumed to 6.
      await cli([...common, '--limit', '3', '--out', join(dir, 'a.json')]);
      const { stderr } = await cli([...common, '--limit', '6', '--out', join(dir, 'a.json')]);
      expect(stderr).toMatch(/resuming .*3 of 6/);
      await cli([...common, '--limit', '6', '--out', join(dir, 'b.json')]);
      const resumed = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as ReportFile;
      const fresh = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as ReportFile;
      expect(resumed.images.map((record) => record.name)).toEqual([
        'scene-00.png',
        'scene-01.png',
        'scene-02.png',
        'scene-03.png',
        'scene-04.png',
        'scene-05.png',
      ]);
      expect(resumed.report).toEqual(fresh.report);
      const { report } = fresh;
      expect(report.images).toBe(6);
      expect(report.detections).toBeGreaterThan(0);
      for (const method of ['cam', 'minmax-cam']) {
        const ic = report.faithfulness[method]!['ic']!;
        expect(ic.support.reduce((a, b) => a + b, 0)).toBe(report.detections);
        expect(ic.macro).not.toBeNull();
        expect(report.localisation?.[method]?.pointing.macro).toBeGreaterThanOrEqual(0);
        expect(report.localisation?.[method]?.segmentation.meanIou).toBeGreaterThan(0);
      }
      // Two shards in parallel, merged: the same report as one run.
      await Promise.all(
        [0, 1].map((shard) => cli([...common, '--limit', '6', '--shard', `${shard}/2`, '--out', join(dir, `s${shard}.json`)])),
      );
      const shard0 = JSON.parse(readFileSync(join(dir, 's0.json'), 'utf8')) as ReportFile;
      expect(shard0.images.map((record) => record.name)).toEqual(['scene-00.png', 'scene-02.png', 'scene-04.png']);
      const merged = await cli([
        ...common,
        '--limit',
        '6',
        '--merge',
        `${join(dir, 's1.json')},${join(dir, 's0.json')}`,
        '--out',
        join(dir, 'm.json'),
      ]);
      expect(merged.stderr).toMatch(/merged 3 images[\s\S]*merged 3 images/);
      const mergedReport = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8')) as ReportFile;
      expect(mergedReport.images.map((record) => record.name)).toEqual(fresh.images.map((record) => record.name));
      expect(mergedReport.report).toEqual(fresh.report);
      await expect(cli([...common, '--shard', '2/2', '--out', join(dir, 'x.json')])).rejects.toThrow(/--shard takes I\/N/);
      const csv = readFileSync(join(dir, 'b.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('metric,better,cam,minmax-cam,support');
      expect(csv.map((line) => line.split(',')[0])).toEqual([
        'metric',
        '%IC',
        '%AD',
        '%AR',
        '%ADO',
        '%ARO',
        'F1+',
        'F1-',
        'pointing game',
        'mIoU',
      ]);
      // A labels file beside an image makes its labels the detected set; the output folder is created.
      const withLabels = temporaryDirectory('cam-evaluate-labels-');
      copyFileSync(join(samples, 'scene-01.png'), join(withLabels, 'scene-01.png'));
      writeFileSync(join(withLabels, 'scene-01.labels.json'), '["heart", 1]');
      await cli(['--model', model, '--images', withLabels, '--methods', 'cam', '--out', join(withLabels, 'out', 'r.json')]);
      const labelled = JSON.parse(readFileSync(join(withLabels, 'out', 'r.json'), 'utf8')) as ReportFile;
      expect(labelled.images[0]!.detected).toEqual([1, 6]);
      // A different setting on the same file is refused rather than mixed in.
      await expect(cli([...common, '--methods', 'gradcam', '--limit', '6', '--out', join(dir, 'a.json')])).rejects.toThrow(
        /another model or settings \(methods: \["cam","minmax-cam"\] there, \["gradcam"\] here\)/,
      );
    }, 240_000);

    it('killed with -9 twenty times at random moments, resumes to the report of an uninterrupted run (issue #17)', async () => {
      const dir = temporaryDirectory('cam-evaluate-kill-');
      // All 16 scenes, with curves: about 1.3 s per image here, so kills land before, during and after images.
      const args = (out: string) => [
        '--model',
        model,
        '--images',
        samples,
        '--methods',
        'cam,gradcam,minmax-cam',
        '--curves',
        '16',
        '--out',
        out,
      ];
      await cli(args(join(dir, 'whole.json')));
      const out = join(dir, 'killed.json');
      // Deterministic "random" kill times (a linear congruential sequence), 1.5 to 5 s after the start:
      // during start-up, model loading, evaluation and the report's rename alike.
      let seed = 17;
      const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      let killed = 0;
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const child = spawn(
          process.execPath,
          [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'src', 'cli', 'evaluate.ts'), ...args(out)],
          // Its own process group, killed whole: tsx runs the tool in a child process, as a scheduler's kill would.
          { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
        );
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
        const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 1500 + next() * 3500);
        const code = await exited;
        clearTimeout(timer);
        // The group leader (tsx) exits first; wait until the tool it ran is gone too before the next start.
        for (let wait = 0; wait < 100; wait += 1) {
          try {
            process.kill(-child.pid!, 0);
          } catch {
            break;
          }
          await new Promise((done) => setTimeout(done, 50));
        }
        if (code === null) killed += 1;
        else expect(code, `a run that was not killed finishes cleanly: ${stderr}`).toBe(0);
      }
      console.log(`evaluate killed with -9: ${killed} of 20 runs`);
      expect(killed, 'most of the 20 runs were killed before finishing').toBeGreaterThanOrEqual(15);
      await cli(args(out)); // finishes whatever is left
      const withoutTimes = (path: string) => {
        const file = JSON.parse(readFileSync(path, 'utf8')) as {
          images: Array<Record<string, unknown>>;
          report: unknown;
          failures: unknown;
        };
        return { images: file.images.map(({ ms: _ms, ...record }) => record), report: file.report, failures: file.failures };
      };
      expect(withoutTimes(out)).toEqual(withoutTimes(join(dir, 'whole.json')));
      expect(existsSync(`${out}.partial`) && existsSync(`${out}.lock`)).toBe(false);
    }, 300_000);

    it('survives hostile folders (issue #17): bad files are named failures, resume knows the model by content, damaged records are redone, one writer per report', async () => {
      const dir = temporaryDirectory('cam-evaluate-hostile-');
      const images = join(dir, 'images');
      mkdirSync(images);
      for (const scene of ['scene-00.png', 'scene-01.png', 'scene-02.png']) copyFileSync(join(samples, scene), join(images, scene));
      writeFileSync(join(images, 'empty.png'), '');
      writeFileSync(join(images, 'text.jpg'), 'not an image');
      const out = join(dir, 'r.json');
      const args = (modelPath: string) => ['--model', modelPath, '--images', images, '--methods', 'cam', '--out', out];
      // The run goes on past the bad files, names them, and exits 3.
      const first = await cli(args(model)).then(
        () => expect.unreachable('exit code 3 expected'),
        (error: { code: number; stderr: string }) => error,
      );
      expect(first.code).toBe(3);
      expect(first.stderr).toMatch(/empty\.png is empty \(0 bytes\)/);
      expect(first.stderr).toMatch(/text\.jpg is not an image this tool reads/);
      const report = JSON.parse(readFileSync(out, 'utf8')) as ReportFile & { failures: Array<{ name: string }> };
      expect(report.images.map((record) => record.name)).toEqual(['scene-00.png', 'scene-01.png', 'scene-02.png']);
      expect(report.failures.map((failure) => failure.name)).toEqual(['empty.png', 'text.jpg']);
      // The same model by another path spelling resumes; a damaged record is named and evaluated again.
      const damaged = JSON.parse(readFileSync(out, 'utf8')) as { images: Array<Record<string, unknown>> };
      delete damaged.images[1]!['scores'];
      damaged.images.push({ ...damaged.images[0]! }); // a record present twice counts once
      writeFileSync(out, JSON.stringify(damaged));
      const resumed = await cli(args(`${relative(root, model)}/`)).catch((error: { stderr: string }) => error);
      expect(resumed.stderr).toMatch(/record 1 \(scene-01\.png\) is damaged .*evaluating it again/);
      expect(resumed.stderr).toMatch(/resuming .*2 of 5 images already evaluated/);
      const again = JSON.parse(readFileSync(out, 'utf8')) as ReportFile;
      expect(again.images.map((record) => record.name)).toEqual(['scene-00.png', 'scene-01.png', 'scene-02.png']);
      expect(again.report).toEqual(report.report);
      // Another model's files on the same --out are refused, naming the difference.
      const other = join(root, 'models', 'shapes-resnet-kur');
      if (existsSync(other)) await expect(cli(args(other))).rejects.toThrow(/another model or settings \(the model: its files differ/);
      // A second process on the same --out is refused at start (a live pid holds the lock).
      writeFileSync(`${out}.lock`, String(process.pid));
      await expect(cli(args(model))).rejects.toThrow(new RegExp(`being written by another process \\(pid ${process.pid}`));
      // A stale lock (its process is gone) is taken over.
      writeFileSync(`${out}.lock`, '999999999');
      await cli(args(model)).catch((error: { code: number }) => expect(error.code).toBe(3));
      expect(existsSync(`${out}.lock`)).toBe(false);
    }, 240_000);
  },
);
