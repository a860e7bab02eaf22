/** Small helpers shared by the command-line tools. */
export class UsageError extends Error {}

export function requireString(value: string | boolean | undefined, name: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function parseNumberList(text: string, name: string): number[] {
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value < 0)) {
    throw new UsageError(`--${name} takes comma-separated class indices, e.g. 285,281 (got "${text}")`);
  }
  return values;
}

/** Runs a CLI main: usage errors print the usage and exit 2, other errors exit 1 with their message. */
export function runMain(usage: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n\n${usage}\n`);
      process.exit(2);
    }
    process.stderr.write(`error: ${error instanceof Error ? `${error.message}` : String(error)}\n`);
    process.exit(1);
  });
}
