#!/usr/bin/env node
// `npm test`: every test suite of the project, then one summary line.
//
//   1. node scripts/fetch-models.mjs   (the default ResNet50 into models/; verified, ~0.5 s when present)
//   2. the static checks, one test each: tsc -b (types), eslint . --max-warnings 0 (lint, import cycles,
//      folder boundaries), prettier --check . (formatting)
//   3. vitest run                      (unit and integration tests; JSON report .vitest-report.json)
//   4. playwright test                 (end-to-end tests in headless Chromium; JSON report .playwright-report.json)
//
// Output of each step streams as it runs. The very last line printed is exactly
//   `N passed, N failed`            or   `N passed, N failed, N skipped`   (skipped only when > 0)
// summed over both reports. A suite that ends without a readable report, or exits non-zero while its
// report shows no failure, counts as 1 failed (with a line saying why). Exit code 1 when anything failed.
//
// Developer flags (npm test -- <flags>):
//   --unit-only   the checks and vitest        --e2e-only   only Playwright
//   any other arguments are passed on to the one runner selected (e.g. npm test -- --e2e-only --grep parity)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit-only');
const e2eOnly = args.includes('--e2e-only');
const extra = args.filter((arg) => arg !== '--unit-only' && arg !== '--e2e-only');

if (unitOnly && e2eOnly) {
  console.error('[test-all] --unit-only and --e2e-only exclude each other.');
  process.exit(2);
}
if (extra.length > 0 && !unitOnly && !e2eOnly) {
  console.error(`[test-all] extra arguments (${extra.join(' ')}) need --unit-only or --e2e-only to say which runner gets them.`);
  process.exit(2);
}

const VITEST_REPORT = join(root, '.vitest-report.json');
const PLAYWRIGHT_REPORT = join(root, '.playwright-report.json');

let current = null;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current && current.exitCode === null) current.kill(signal);
    process.exitCode = 130;
  });
}

/** Runs a command with inherited stdio; resolves with its exit code (or 1 when it could not start / was killed). */
function run(label, command, commandArgs) {
  console.log(`\n[test-all] ${label}: ${[command, ...commandArgs].join(' ')}`);
  return new Promise((resolvePromise) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
    current = child;
    child.on('error', (error) => {
      console.error(`[test-all] ${label}: could not start: ${error.message}`);
      resolvePromise(1);
    });
    child.on('close', (code, signal) => {
      current = null;
      if (signal) console.error(`[test-all] ${label}: killed by ${signal}`);
      resolvePromise(code ?? 1);
    });
  });
}

function readJson(path) {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];

/** Counts from vitest's JSON (Jest-style) report. */
function countVitest(exitCode) {
  const report = readJson(VITEST_REPORT);
  if (!report || typeof report.numTotalTests !== 'number') {
    totals.failed += 1;
    problems.push(`vitest crashed before writing a report (exit code ${exitCode})`);
    return;
  }
  let failed = report.numFailedTests ?? 0;
  // A test file that fails to load (syntax error, failing import, error in a hook) has no failed test.
  for (const file of report.testResults ?? []) {
    const hasFailedTest = (file.assertionResults ?? []).some((test) => test.status === 'failed');
    if (file.status === 'failed' && !hasFailedTest) {
      failed += 1;
      const message = String(file.message ?? '').split('\n')[0];
      problems.push(`vitest: ${file.name ?? 'a test file'} failed outside any test${message ? `: ${message}` : ''}`);
    }
  }
  if (failed === 0 && (exitCode !== 0 || report.success === false)) {
    failed = 1;
    problems.push(
      report.numTotalTests === 0
        ? `vitest found no tests and exited with code ${exitCode}`
        : `vitest exited with code ${exitCode} although no test failed (unhandled error?)`,
    );
  }
  totals.passed += report.numPassedTests ?? 0;
  totals.failed += failed;
  totals.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}

/** Counts from Playwright's JSON report. */
function countPlaywright(exitCode) {
  const report = readJson(PLAYWRIGHT_REPORT);
  if (!report || typeof report.stats !== 'object' || report.stats === null) {
    totals.failed += 1;
    problems.push(`playwright crashed before writing a report (exit code ${exitCode})`);
    return;
  }
  const { expected = 0, unexpected = 0, flaky = 0, skipped = 0 } = report.stats;
  let failed = unexpected;
  const errors = Array.isArray(report.errors) ? report.errors : [];
  // Global errors: web server did not start, a spec file did not load, global setup threw...
  if (errors.length > 0) {
    failed += 1;
    const first = String(errors[0]?.message ?? errors[0]?.value ?? 'unknown error').split('\n')[0];
    problems.push(`playwright: ${errors.length} error(s) outside tests, first: ${first}`);
  }
  if (failed === 0 && exitCode !== 0) {
    failed = 1;
    problems.push(`playwright exited with code ${exitCode} although no test failed`);
  }
  totals.passed += expected + flaky;
  totals.failed += failed;
  totals.skipped += skipped;
}

// 1. Models.
const fetchCode = await run('models', process.execPath, [join(root, 'scripts', 'fetch-models.mjs')]);
if (fetchCode !== 0) {
  console.error('[test-all] fetching the models failed (see the message above); no test was run.');
  totals.failed += 1;
  problems.push('scripts/fetch-models.mjs failed');
} else {
  // The ResNet50 as a PyTorch user's ONNX export (the ONNX parity test), made once with Debian's python3-torch.
  if (!e2eOnly && !existsSync(join(root, 'models', 'resnet50-imagenet-onnx', 'model.onnx'))) {
    const code = await run('onnx model', '/usr/bin/python3', [join(root, 'scripts', 'onnx', 'export-resnet50.py')]);
    if (code !== 0)
      console.error('[test-all] exporting the ResNet50 to ONNX failed (python3-torch missing?): its parity test will say so.');
  }
  // 2. Static checks.
  if (!e2eOnly) {
    const bin = (name, ...path) => join(root, 'node_modules', name, ...path);
    const checks = [
      ['types', bin('typescript', 'bin', 'tsc'), ['-b']],
      ['lint', bin('eslint', 'bin', 'eslint.js'), ['.', '--max-warnings', '0']],
      ['format', bin('prettier', 'bin', 'prettier.cjs'), ['--check', '.']],
    ];
    for (const [label, script, args] of checks) {
      const code = await run(label, process.execPath, [script, ...args]);
      if (code === 0) totals.passed += 1;
      else {
        totals.failed += 1;
        problems.push(`${label} check failed (exit code ${code}; see its output above)`);
      }
    }
  }
  // 3. Unit tests.
  if (!e2eOnly) {
    rmSync(VITEST_REPORT, { force: true });
    const code = await run('unit', process.execPath, [
      join(root, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile=${VITEST_REPORT}`,
      ...(unitOnly ? extra : []),
    ]);
    countVitest(code);
  }
  // 4. End-to-end tests.
  if (!unitOnly) {
    rmSync(PLAYWRIGHT_REPORT, { force: true });
    const code = await run('e2e', process.execPath, [
      join(root, 'node_modules', '@playwright', 'test', 'cli.js'),
      'test',
      ...(e2eOnly ? extra : []),
    ]);
    countPlaywright(code);
  }
}

console.log('');
for (const problem of problems) console.log(`[test-all] ${problem}`);
const summary = `${totals.passed} passed, ${totals.failed} failed${totals.skipped > 0 ? `, ${totals.skipped} skipped` : ''}`;
process.stdout.write(`${summary}\n`);
process.exitCode = totals.failed > 0 ? 1 : (process.exitCode ?? 0);
