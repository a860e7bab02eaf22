/// <reference lib="webworker" />
/** Worker entry: exposes the engine over Comlink. The UI holds `Comlink.Remote<EngineApi>`. */
import * as Comlink from 'comlink';
import { Engine } from './engine';
import type { EngineApi } from './protocol';

const engine: EngineApi = new Engine();
Comlink.expose(engine);
