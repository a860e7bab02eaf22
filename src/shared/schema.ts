/**
 * Parsing untrusted input with valibot schemas, once, with messages a user can act on: every failure names
 * the field, the value given and what is allowed ("scorecam.batchSize is 0: allowed is a whole number from
 * 1 to 1024"). The field helpers below carry that "allowed" text as the schema's message, so the schema
 * and its message are written together. TF-free and DOM-free.
 */
import * as v from 'valibot';
import { StudioError } from './errors';

export type Schema<T = unknown> = v.GenericSchema<unknown, T>;

/** A value that did not fit its schema; `message` says which field, what was given and what is allowed. */
export class InvalidInputError extends StudioError {
  constructor(
    message: string,
    /** One line per problem. */
    readonly problems: readonly string[],
  ) {
    super('invalid-input', message);
  }
}

/** A short, safe rendering of a value for a message (long strings and big objects are cut). */
export function showValue(value: unknown): string {
  let text: string;
  if (value === undefined) text = 'missing';
  else if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One line per issue: `field is value: allowed is ...`. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string[] {
  return issues.map((issue) => {
    const path = v.getDotPath(issue);
    const field = path === null || path === '' ? 'the value' : path;
    return `${field} is ${showValue(issue.input)}: allowed is ${issue.message}`;
  });
}

/**
 * Parses `value` with `schema`; throws an {@link InvalidInputError} whose message starts with `what` (where
 * the value came from, e.g. "metadata.json" or "--scorecam-variant") and lists every problem.
 */
export function parseWith<T>(schema: Schema<T>, value: unknown, what: string): T {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const problems = describeIssues(result.issues);
  throw new InvalidInputError(`${what}: ${problems.join('; ')}.`, problems);
}

/** As {@link parseWith}, but returns the problems instead of throwing. */
export function tryParse<T>(schema: Schema<T>, value: unknown): { ok: true; value: T } | { ok: false; problems: string[] } {
  const result = v.safeParse(schema, value);
  return result.success ? { ok: true, value: result.output } : { ok: false, problems: describeIssues(result.issues) };
}

// ---- fields: a schema with its "allowed" text and, for numbers, the range ----

export interface IntegerField {
  kind: 'integer';
  min: number;
  max: number;
  allowed: string;
  schema: v.GenericSchema<number, number>;
}

export interface NumberField {
  kind: 'number';
  min: number;
  max: number;
  allowed: string;
  schema: v.GenericSchema<number, number>;
}

export interface ChoiceField<T extends string> {
  kind: 'choice';
  values: readonly T[];
  allowed: string;
  schema: v.GenericSchema<T, T>;
}

/** A whole number in [min, max]. */
export function integerField(min: number, max: number): IntegerField {
  const allowed = `a whole number from ${min} to ${max}`;
  return {
    kind: 'integer',
    min,
    max,
    allowed,
    schema: v.pipe(v.number(allowed), v.integer(allowed), v.minValue(min, allowed), v.maxValue(max, allowed)),
  };
}

/** A finite number in [min, max]. */
export function numberField(min: number, max: number): NumberField {
  const allowed = `a number from ${min} to ${max}`;
  return { kind: 'number', min, max, allowed, schema: v.pipe(v.number(allowed), v.minValue(min, allowed), v.maxValue(max, allowed)) };
}

/** One of a fixed list of strings. */
export function choiceField<const T extends string>(values: readonly T[]): ChoiceField<T> {
  const allowed = `one of ${values.join(', ')}`;
  return { kind: 'choice', values, allowed, schema: v.picklist(values as T[], allowed) as unknown as v.GenericSchema<T, T> };
}

/** A number typed as text (a command-line flag, a form field, a URL parameter) read by a numeric field. */
export function fromText<T>(field: { schema: v.GenericSchema<number, T>; allowed: string }): v.GenericSchema<unknown, T> {
  return v.pipe(
    v.string(field.allowed),
    v.trim(),
    v.check((text) => text !== '', field.allowed),
    v.transform(Number),
    field.schema,
  ) as unknown as v.GenericSchema<unknown, T>;
}

/** Clamps a number into a field's range; not a finite number: `fallback`. Integer fields round. */
export function clampToField(field: IntegerField | NumberField, value: number, fallback: number): number {
  if (!Number.isFinite(value)) return fallback;
  const rounded = field.kind === 'integer' ? Math.round(value) : value;
  return Math.max(field.min, Math.min(field.max, rounded));
}

/** Reads a form field's text with a numeric field: its value, or the sentence `${what} is <allowed>.` */
export function parseFieldText(field: IntegerField | NumberField, text: string, what: string): { value: number } | { error: string } {
  const result = v.safeParse(fromText(field), text);
  return result.success ? { value: result.output } : { error: `${what} is ${field.allowed}.` };
}
