/// <reference lib="webworker" />
/**
 * Worker entry: exposes the engine over Comlink (the UI holds `Comlink.Remote<EngineApi>`), and tells the
 * page when the WebGPU device is lost (a plain message beside Comlink's, see DEVICE_LOST_MESSAGE).
 */
import * as Comlink from 'comlink';
import { Engine } from './engine';
import { validatedApi } from './validated-api';
import { DEVICE_LOST_MESSAGE, type DeviceLostMessage, type EngineApi } from '../shared/protocol';

const engine: EngineApi = validatedApi(
  new Engine({
    onDeviceLost: (message) => self.postMessage({ type: DEVICE_LOST_MESSAGE, message } satisfies DeviceLostMessage),
  }),
);
Comlink.expose(engine);
