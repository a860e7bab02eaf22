/**
 * The engine as the page reaches it: every argument that crosses into the worker is parsed with the schemas
 * of src/shared/protocol.ts before the engine sees it, so a malformed call (a bug in a client, a hand-made
 * message, a stale page after an upgrade) is refused with an `invalid-input` error naming the field, the
 * value and what is allowed, instead of failing deep inside TF.js. Callbacks are Comlink proxies: only
 * checked to be callable. A refused call rejects like any engine error.
 */
import {
  AnalyzeRequestSchema,
  BackendChoiceSchema,
  BlobSchema,
  FigureRowRequestSchema,
  FileAnalyzeRequestSchema,
  HostInfoSchema,
  MetricsRequestSchema,
  ModelConfigurationSchema,
  ModelSourceSchema,
  NameSchema,
  OptionalBlobSchema,
  WalkthroughRequestSchema,
  type BackendChoice,
  type EngineApi,
} from '../shared/protocol';
import { InvalidInputError, parseWith, type Schema } from '../shared/schema';

const parse = <T>(schema: Schema<T>, value: unknown, what: string): T => parseWith(schema, value, what);

function callback<T extends (...args: never[]) => unknown>(value: T | undefined, what: string): T | undefined {
  if (value !== undefined && typeof value !== 'function')
    throw new InvalidInputError(`${what}: not a function.`, [`${what} is not a function`]);
  return value;
}

export function validatedApi(engine: EngineApi): EngineApi {
  return {
    init: async (choice, host) =>
      engine.init(
        parse(BackendChoiceSchema, choice, 'The backend') as BackendChoice,
        parse(HostInfoSchema, host ?? {}, 'The host information'),
      ),
    setBackend: async (choice) => engine.setBackend(parse(BackendChoiceSchema, choice, 'The backend') as BackendChoice),
    loadModel: async (source, onProgress) =>
      engine.loadModel(parse(ModelSourceSchema, source, 'The model source'), callback(onProgress, 'The progress callback')),
    configureModel: async (options) => engine.configureModel(parse(ModelConfigurationSchema, options, 'The model configuration')),
    setImage: async (image) => engine.setImage(parse(BlobSchema, image, 'The image')),
    analyze: async (request, onProgress) =>
      engine.analyze(parse(AnalyzeRequestSchema, request, 'The analysis request'), callback(onProgress, 'The progress callback')),
    evaluateMetrics: async (request, onProgress) =>
      engine.evaluateMetrics(parse(MetricsRequestSchema, request, 'The metrics request'), callback(onProgress, 'The progress callback')),
    evaluateFile: async (image, mask, name, request) =>
      engine.evaluateFile(
        parse(BlobSchema, image, 'The image'),
        parse(OptionalBlobSchema, mask, 'The mask'),
        parse(NameSchema, name, 'The file name'),
        parse(MetricsRequestSchema, request, 'The evaluation request'),
      ),
    analyzeFile: async (image, request) =>
      engine.analyzeFile(parse(BlobSchema, image, 'The image'), parse(FileAnalyzeRequestSchema, request, 'The analysis request')),
    explainFigureRow: async (image, request) =>
      engine.explainFigureRow(parse(BlobSchema, image, 'The image'), parse(FigureRowRequestSchema, request, 'The figure row request')),
    walkthrough: async (request) => engine.walkthrough(parse(WalkthroughRequestSchema, request, 'The walkthrough request')),
    cancel: async () => engine.cancel(),
    memory: async () => engine.memory(),
    modelInput: async () => engine.modelInput(),
    simulateDeviceLoss: async () => engine.simulateDeviceLoss(),
  };
}
