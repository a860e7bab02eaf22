/**
 * Per-method options and the meta-methods' options: their types, defaults and valid ranges, written once.
 * The engine's explanation context (src/core/methods/context.ts), the studio's option panel and store,
 * the command line's flags, saved settings and the requests that cross into the worker all read them here.
 * TF-free and DOM-free.
 *
 * Adding an option family: one entry in METHOD_OPTION_FIELDS (field schemas and defaults), and the
 * method's descriptor names it (src/shared/methods.ts `options`).
 */
import * as v from 'valibot';
import {
  choiceField,
  clampToField,
  integerField,
  numberField,
  parseFieldText,
  type ChoiceField,
  type IntegerField,
  type NumberField,
} from './schema';

export type ScoreCamVariant = 'probability' | 'softmax-logits' | 'increase-of-confidence';

export const SCORECAM_VARIANTS: readonly ScoreCamVariant[] = ['probability', 'softmax-logits', 'increase-of-confidence'];

export const SCORECAM_VARIANT_TITLES: Readonly<Record<ScoreCamVariant, string>> = {
  probability: 'probability p_c(x · H^k)',
  'softmax-logits': 'softmax over channels of the logits (pytorch-grad-cam)',
  'increase-of-confidence': 'increase of confidence (the paper)',
};

/** Score-CAM's default channel cap (see its option below); the full run is `maxChannels: null`. */
export const SCORECAM_DEFAULT_CHANNELS = 128;

/** Score-CAM's channel cap: a whole number of channels, or null for all of them. */
export interface CapField {
  kind: 'cap';
  min: number;
  max: number;
  allowed: string;
  schema: v.GenericSchema<number | null, number | null>;
}

function capField(min: number, max: number): CapField {
  const count = integerField(min, max);
  const allowed = `null (all channels) or ${count.allowed}`;
  return {
    kind: 'cap',
    min,
    max,
    allowed,
    schema: v.union([v.null(), count.schema], allowed) as v.GenericSchema<number | null, number | null>,
  };
}

type Field = IntegerField | NumberField | CapField | ChoiceField<string>;

/** How a field is presented: the studio's option panel and the command line's flag are built from it. */
export interface FieldPresentation {
  /** The command-line flag (`--scorecam-batch-size`) and the studio's test id (`option-scorecam-batch-size`). */
  flag: string;
  /** The studio's label. */
  title: string;
  /** What a message about a bad value calls it ("The batch size is a whole number from 1 to 1024."). */
  what: string;
  hint?: string;
  /** For choice fields: a title per value. */
  choices?: Readonly<Record<string, string>>;
}

export type OptionField = Field & FieldPresentation & { default: unknown };

const option = <F extends Field, D>(field: F, fallback: D, presentation: FieldPresentation): F & FieldPresentation & { default: D } =>
  Object.assign({}, field, presentation, { default: fallback });

const BATCH = integerField(1, 1024);
const SAMPLES = integerField(1, 1000);
const NOISE = numberField(0, 1);
const SEED = integerField(0, 2 ** 31 - 1);

/** Every option of every family: schema, allowed values and default. */
export const METHOD_OPTION_FIELDS = {
  scorecam: {
    /**
     * `probability`: s_k = p_c(x * H^k) (the seed's benchmarks); `softmax-logits`: pytorch-grad-cam's softmax over
     * channels of S_c(x * H^k); `increase-of-confidence`: the paper's p_c(x * H^k) - p_c(baseline).
     */
    variant: option(choiceField(SCORECAM_VARIANTS), 'probability' as ScoreCamVariant, {
      flag: 'scorecam-variant',
      title: 'Score',
      what: 'The score',
      choices: SCORECAM_VARIANT_TITLES,
    }),
    /** Masked inputs per forward pass. */
    batchSize: option(BATCH, 16, { flag: 'scorecam-batch-size', title: 'Batch size (masked inputs per pass)', what: 'The batch size' }),
    /**
     * Keep only the N channels of largest spatial variance (Faster-Score-CAM); null = all. Default
     * SCORECAM_DEFAULT_CHANNELS: Score-CAM costs one masked forward pass per channel, and on ResNet50's 2048
     * channels that is 14 to 26 minutes for one image on a 2-core CPU with wasm (0.4 to 0.77 s per masked
     * input, measured in two runs); 128 channels took 98.8 s there (`npm run explain`, chelsea, 3 labels).
     */
    maxChannels: option(capField(1, 2 ** 20), SCORECAM_DEFAULT_CHANNELS as number | null, {
      flag: 'scorecam-max-channels',
      title: 'Max channels',
      what: 'The channel cap',
      hint: `Keep the channels of largest variance (Faster-Score-CAM); default ${SCORECAM_DEFAULT_CHANNELS}, so that a CPU finishes in a minute or two. Empty = all channels (one masked pass each).`,
    }),
  },
  ablation: {
    /** Ablated channels per pass of the head. */
    batchSize: option(BATCH, 64, { flag: 'ablation-batch-size', title: 'Batch size (ablated channels per pass)', what: 'The batch size' }),
  },
  smoothgrad: {
    /** Noisy copies. */
    samples: option(SAMPLES, 20, { flag: 'smoothgrad-samples', title: 'Samples', what: 'The number of samples' }),
    /** `sigma = noiseLevel (max x - min x)`. */
    noiseLevel: option(NOISE, 0.15, {
      flag: 'smoothgrad-noise',
      title: 'Noise level (σ, as a fraction of the input range)',
      what: 'The noise level',
    }),
    /** Copy i uses the seed `seed + i`. */
    seed: option(SEED, 0, { flag: 'smoothgrad-seed', title: 'Seed', what: 'The seed' }),
  },
  integratedGradients: {
    /** Riemann steps along the straight path from the baseline. */
    steps: option(SAMPLES, 32, { flag: 'ig-steps', title: 'Steps', what: 'The number of steps' }),
    /** Steps per backward pass. */
    batchSize: option(BATCH, 8, { flag: 'ig-batch-size', title: 'Batch size (steps per pass)', what: 'The batch size' }),
  },
} as const;

type Fields = typeof METHOD_OPTION_FIELDS;
export type OptionFamily = keyof Fields;

export type MethodOptions = { [F in OptionFamily]: { [K in keyof Fields[F]]: Fields[F][K] extends { default: infer D } ? D : never } };

/** A patch of method options: each family's fields may be given alone. */
export type MethodOptionsPatch = { [F in OptionFamily]?: Partial<MethodOptions[F]> };

export const OPTION_FAMILIES = Object.keys(METHOD_OPTION_FIELDS) as OptionFamily[];

/** The fields of a family, by key (for code that walks every option: the panel, the flags). */
export function optionFields(family: OptionFamily): ReadonlyArray<[string, OptionField]> {
  return Object.entries(METHOD_OPTION_FIELDS[family] as Record<string, OptionField>);
}

function mapFamilies<T>(make: (family: OptionFamily, fields: Record<string, OptionField>) => T): Record<OptionFamily, T> {
  return Object.fromEntries(OPTION_FAMILIES.map((family) => [family, make(family, METHOD_OPTION_FIELDS[family] as never)])) as Record<
    OptionFamily,
    T
  >;
}

/** The defaults (frozen: the store hands them out as its initial value). */
export const DEFAULT_METHOD_OPTIONS: MethodOptions = Object.freeze(
  mapFamilies((_family, fields) => Object.freeze(Object.fromEntries(Object.entries(fields).map(([key, field]) => [key, field.default])))),
) as unknown as MethodOptions;

/** One family, whole (every field present and valid). */
const familySchemas = mapFamilies((_family, fields) =>
  v.strictObject(Object.fromEntries(Object.entries(fields).map(([key, field]) => [key, field.schema as v.GenericSchema]))),
);

/** All option families, each whole. */
export const MethodOptionsSchema = v.strictObject(familySchemas) as unknown as v.GenericSchema<unknown, MethodOptions>;

/** Some families, each whole: the `options` of a request (the engine merges families shallowly). */
export const MethodOptionsRequestSchema = v.strictObject(
  Object.fromEntries(OPTION_FAMILIES.map((family) => [family, v.optional(familySchemas[family])])),
) as unknown as v.GenericSchema<unknown, Partial<MethodOptions>>;

/** `options` of a request over the defaults (families merged shallowly, as the engine does). */
export function withDefaultOptions(options: Partial<MethodOptions> | undefined): MethodOptions {
  return { ...DEFAULT_METHOD_OPTIONS, ...options };
}

/** Applies a patch and keeps every value in its range (a bad value falls back to the current one). */
export function mergeMethodOptions(current: MethodOptions, patch: MethodOptionsPatch): MethodOptions {
  return mapFamilies((family, fields) => {
    const now = current[family] as Record<string, unknown>;
    const next = { ...now, ...(patch[family] as Record<string, unknown> | undefined) };
    return Object.fromEntries(
      Object.entries(fields).map(([key, field]) => {
        const value = next[key];
        const previous = now[key];
        switch (field.kind) {
          case 'choice':
            return [key, typeof value === 'string' && field.values.includes(value) ? value : previous];
          case 'cap':
            if (value === null) return [key, null];
            return [
              key,
              typeof value === 'number' && Number.isFinite(value) ? clampToField(integerField(field.min, field.max), value, 1) : previous,
            ];
          case 'integer':
          case 'number':
            return [key, clampToField(field, typeof value === 'number' ? value : Number.NaN, previous as number)];
        }
      }),
    );
  }) as unknown as MethodOptions;
}

/**
 * The `options` of a request: only the families that differ from the defaults, each one whole (the engine
 * merges families shallowly); undefined when everything is default.
 */
export function optionsForRequest(options: MethodOptions): Partial<MethodOptions> | undefined {
  const out: Partial<Record<OptionFamily, unknown>> = {};
  for (const family of OPTION_FAMILIES) {
    if (JSON.stringify(options[family]) !== JSON.stringify(DEFAULT_METHOD_OPTIONS[family])) out[family] = { ...options[family] };
  }
  return Object.keys(out).length > 0 ? (out as Partial<MethodOptions>) : undefined;
}

/** A whole number typed in an option field, within [min, max]. */
export function parseIntegerField(text: string, min: number, max: number, what: string): { value: number } | { error: string } {
  return parseFieldText(integerField(min, max), text, what);
}

/** A number typed in an option field, within [min, max]. */
export function parseNumberField(text: string, min: number, max: number, what: string): { value: number } | { error: string } {
  return parseFieldText(numberField(min, max), text, what);
}

/** Score-CAM's channel cap: empty = all channels, else a whole number in the field's range. */
export function parseMaxChannels(text: string): { value: number | null } | { error: string } {
  return parseOptionText(METHOD_OPTION_FIELDS.scorecam.maxChannels, text) as { value: number | null } | { error: string };
}

/** A field's value typed as text (the studio's panel, a command-line flag): the value, or why not. */
export function parseOptionText(field: OptionField, text: string): { value: string | number | null } | { error: string } {
  switch (field.kind) {
    case 'choice':
      return field.values.includes(text.trim()) ? { value: text.trim() } : { error: `${field.what} is ${field.allowed}.` };
    case 'cap':
      if (text.trim() === '') return { value: null };
      return parseIntegerField(text, field.min, field.max, field.what);
    case 'integer':
      return parseIntegerField(text, field.min, field.max, field.what);
    case 'number':
      return parseNumberField(text, field.min, field.max, field.what);
  }
}

// ---- meta-methods (src/core/methods/meta.ts) ----

export interface TtaOptions {
  /** Also explain the horizontally flipped input (and each scale flipped). */
  hflip: boolean;
  /** Zoom factors besides 1 (the identity is always included). keras-explainable default: 0.5, 1.5, 2.0. */
  scales: number[];
}

export interface SmoothOptions {
  /** Number of noisy copies `n`. */
  samples: number;
  /** `sigma = noiseLevel (max x - min x)`; 0 gives `n` copies of the input itself. */
  noiseLevel: number;
  /** Copy i uses the seed `seed + i`: same input, same options, same maps. */
  seed: number;
}

export interface MetaOptions {
  tta?: TtaOptions;
  smooth?: SmoothOptions;
}

/** A TTA zoom factor. */
export const TTA_SCALE = numberField(0.05, 8);

export const DEFAULT_TTA: Readonly<TtaOptions> = Object.freeze({ hflip: true, scales: [0.5, 1.5, 2.0] });

/** Smoothing any method uses SmoothGrad's fields and defaults. */
export const DEFAULT_SMOOTH: Readonly<SmoothOptions> = DEFAULT_METHOD_OPTIONS.smoothgrad;

export const MetaOptionsSchema = v.strictObject({
  tta: v.optional(
    v.strictObject({ hflip: v.boolean('true or false'), scales: v.array(TTA_SCALE.schema, `a list of ${TTA_SCALE.allowed}`) }),
  ),
  smooth: v.optional(familySchemas.smoothgrad),
}) as unknown as v.GenericSchema<unknown, MetaOptions>;
