/**
 * What a long command-line run needs of the file system to be safe to interrupt, resume and run twice:
 * a fingerprint of the model's files (so a resume knows the model by its content, not by the path it was
 * given), and a lock on the output (so two processes never write one report).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * sha256 over every regular file in the model's folder (model.json or model.onnx, the weight shards or
 * external data, metadata.json, labels), by name and content, in name order: replacing the model, its
 * weights or its labels changes it; moving or renaming the folder does not.
 */
export function modelFingerprint(directory: string): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(directory).sort()) {
    const path = join(directory, name);
    if (!statSync(path).isFile()) continue;
    hash.update(`${name}\0${statSync(path).size}\0`);
    hash.update(readFileSync(path));
  }
  return `sha256:${hash.digest('hex')}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `${path}.lock` for this process, or throws naming the process that holds it. A lock left by a
 * process that no longer runs (killed with -9, say) is taken over. Released when this process exits.
 */
export function lockOutput(path: string): void {
  const lock = `${path}.lock`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      process.on('exit', () => {
        try {
          if (readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
        } catch {
          // already gone
        }
      });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder))
        throw new Error(`${path} is being written by another process (pid ${holder}, ${lock}): wait for it, or choose another --out`, {
          cause: error,
        });
      unlinkSync(lock); // stale: its process is gone
    }
  }
  throw new Error(`could not take ${lock}`);
}
