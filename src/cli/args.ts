/**
 * What the command-line tools share: usage errors, and flags read through the same schemas as everything
 * else (src/shared): a bad value stops the tool with a message naming the flag, the value and what is
 * allowed, never a cast that fails later.
 */
import * as v from 'valibot';
import { parseDetectionRule, type DetectionRule } from '../shared/detection';
import { METHOD_DESCRIPTORS, METHOD_FAMILIES, isMethodId, type MethodId } from '../shared/methods';
import { fromText, integerField, showValue, type ChoiceField, type IntegerField, type NumberField } from '../shared/schema';

export class UsageError extends Error {}

/**
 * What the loader assumed or noticed about the model (defaults it fell back to, a head without activation),
 * said on stderr as the studio shows it beside the model. Notes about the preprocessing are left out when
 * `--preprocessing` chose it.
 */
export function sayModelNotes(notes: readonly string[], options: { preprocessingGiven?: boolean } = {}): void {
  for (const note of notes) {
    if (options.preprocessingGiven === true && note.startsWith('no preprocessing')) continue;
    process.stderr.write(`note: ${note}\n`);
  }
}

export function requireString(value: string | boolean | undefined, name: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** A flag's text read by a field of src/shared (a number field parses the text first). */
export function flagValue<T extends string>(name: string, field: ChoiceField<T>, text: string): T;
export function flagValue(name: string, field: IntegerField | NumberField, text: string): number;
export function flagValue(name: string, field: ChoiceField<string> | IntegerField | NumberField, text: string): string | number {
  const schema = field.kind === 'choice' ? field.schema : fromText(field);
  const result = v.safeParse(schema as v.GenericSchema<unknown, string | number>, text);
  if (!result.success) throw new UsageError(`--${name} is ${showValue(text)}: allowed is ${field.allowed}`);
  return result.output;
}

/** An optional flag: undefined stays undefined. */
export function optionalFlag<T extends string>(name: string, field: ChoiceField<T>, text: string | undefined): T | undefined;
export function optionalFlag(name: string, field: IntegerField | NumberField, text: string | undefined): number | undefined;
export function optionalFlag(
  name: string,
  field: ChoiceField<string> | IntegerField | NumberField,
  text: string | undefined,
): string | number | undefined {
  if (text === undefined) return undefined;
  return field.kind === 'choice' ? flagValue(name, field, text) : flagValue(name, field, text);
}

const CLASS_INDEX = integerField(0, 1_000_000);

/** Comma-separated class indices, e.g. `285,281`. */
export function parseNumberList(text: string, name: string): number[] {
  const values = text.split(',').map((part) => part.trim());
  const parsed = values.map((part) => v.safeParse(fromText(CLASS_INDEX), part));
  if (values.length === 0 || parsed.some((result) => !result.success)) {
    throw new UsageError(`--${name} takes comma-separated class indices, e.g. 285,281 (got "${text}")`);
  }
  return parsed.map((result) => result.output as number);
}

/** A detection rule in the `--detect` notation. */
export function parseDetectFlag(text: string): DetectionRule {
  try {
    return parseDetectionRule(text);
  } catch (error) {
    throw new UsageError(`--detect: ${(error as Error).message}`);
  }
}

/** `--methods`: ids comma-separated, or `all` (the methods the model supports, given by `available`). */
export function parseMethodsFlag(text: string, available: () => MethodId[]): MethodId[] {
  if (text.trim() === 'all') return available();
  const requested = text
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const unknown = requested.filter((id) => !isMethodId(id));
  if (unknown.length > 0)
    throw new UsageError(`unknown method(s): ${unknown.join(', ')}; known: ${METHOD_DESCRIPTORS.map((m) => m.id).join(', ')}`);
  if (requested.length === 0) throw new UsageError('--methods names no method');
  return [...new Set(requested as MethodId[])];
}

/** The methods by family, for `--help` (from the descriptors in src/shared/methods.ts). */
export function methodsHelp(): string {
  return METHOD_FAMILIES.flatMap((family) => {
    const methods = METHOD_DESCRIPTORS.filter((method) => method.family === family.id);
    if (methods.length === 0) return [];
    return [`  ${family.title}: ${methods.map((method) => `${method.id} (${method.title}${method.long ? ', long' : ''})`).join(', ')}`];
  }).join('\n');
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
