/**
 * Before the end-to-end tests: make the fixture models reachable over http.
 *
 * The preview server serves models/ at /models/ (vite.config.ts, read from disk at request time), so the
 * fixtures are copied to models/__e2e__/ (models/ is ignored by git). The default ResNet50 must already be
 * there: `npm run setup` (npm test runs it first).
 */
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, ROOT } from './helpers';

export default function globalSetup(): void {
  const models = join(ROOT, 'models');
  if (!existsSync(join(models, 'resnet50-imagenet', 'model.json'))) {
    throw new Error('models/resnet50-imagenet is missing: run `npm run setup` before the end-to-end tests.');
  }
  const target = join(models, '__e2e__');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync(join(FIXTURES, 'tiny-cnn'), join(target, 'tiny-cnn'), { recursive: true });
  cpSync(join(FIXTURES, 'bad-models'), join(target, 'bad-models'), { recursive: true });
  cpSync(join(FIXTURES, 'tiny-graph'), join(target, 'tiny-graph'), { recursive: true });
  cpSync(join(FIXTURES, 'tiny-graph-generic'), join(target, 'tiny-graph-generic'), { recursive: true });
  cpSync(join(FIXTURES, 'onnx'), join(target, 'onnx'), { recursive: true });
}
