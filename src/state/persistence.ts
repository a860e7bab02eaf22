/**
 * Settings that outlive the page, through zustand's `persist` middleware: the settings part of the state
 * (settings.ts `settingsOf`: mode, model URL, methods, look, detection rule) is written to localStorage
 * under SETTINGS_STORAGE_KEY on every change once start() has applied the stored ones (so the defaults
 * never overwrite them), and read back, validated field by field, when start() asks.
 *
 * Versions: 1 is the flat settings object the studio wrote before it used `persist` (no version field);
 * 2 is the same object with `"version": 2`. `migrate` takes version 1 as it is (same fields), so settings
 * saved by earlier releases keep working. The layout stays flat (not persist's `{ state, version }`) so that
 * a stored value stays readable by hand.
 */
import type { PersistOptions, PersistStorage, StorageValue } from 'zustand/middleware';
import { parseStoredSettingsValue, SETTINGS_STORAGE_KEY, settingsOf, type StudioSettings } from './settings';
import type { StudioDeps, StudioState } from './types';

export const SETTINGS_VERSION = 2;

export interface SettingsPersistence {
  /** The persist middleware's options for the store. */
  options: PersistOptions<StudioState, StudioSettings>;
  /** Gives the persistence its store (after createStore), so that `load` can rehydrate it. */
  attach(store: { persist: { rehydrate(): Promise<void> | void } }): void;
  /** The stored settings, validated (bad fields dropped). Synchronous: localStorage is. */
  load(): StudioSettings;
  /** From now on every change is written (start() calls it once the stored settings are applied). */
  startWriting(): void;
}

export function settingsPersistence(deps: Pick<StudioDeps, 'storage' | 'baseUrl'>): SettingsPersistence {
  let writing = false;
  let written = '';
  let loaded: StudioSettings = {};
  let store: { persist: { rehydrate(): Promise<void> | void } } | null = null;

  const storage: PersistStorage<StudioSettings> = {
    getItem: (name) => {
      let text: string | null;
      try {
        text = deps.storage?.getItem(name) ?? null;
      } catch {
        return null; // storage disabled (private mode, blocked cookies): nothing persists
      }
      if (text === null) return null;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return null;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
      const { version, ...state } = value as Record<string, unknown>;
      return { state: state as StudioSettings, version: typeof version === 'number' ? version : 1 } satisfies StorageValue<StudioSettings>;
    },
    setItem: (name, value) => {
      if (!writing || deps.storage === undefined) return;
      const text = JSON.stringify({ ...value.state, version: value.version });
      if (text === written) return;
      written = text;
      try {
        deps.storage.setItem(name, text);
      } catch {
        // storage full or disabled: settings simply do not persist
      }
    },
    removeItem: () => undefined,
  };

  return {
    options: {
      name: SETTINGS_STORAGE_KEY,
      version: SETTINGS_VERSION,
      storage,
      skipHydration: true,
      partialize: (state) => settingsOf(state, deps.baseUrl),
      // Version 1 has the same fields: validation (in merge) is all it needs.
      migrate: (persisted) => persisted as StudioSettings,
      // The stored settings are validated here and applied by start() together with the URL's, which win.
      merge: (persisted, current) => {
        loaded = parseStoredSettingsValue(persisted);
        return current;
      },
    },
    attach: (next) => {
      store = next;
    },
    load: () => {
      loaded = {};
      void store?.persist.rehydrate(); // runs to the end at once with a synchronous storage
      return loaded;
    },
    startWriting: () => {
      writing = true;
    },
  };
}
