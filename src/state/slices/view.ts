/** The look of the studio and what it shows: mode, colour map, opacity, methods, top-k, grid layout. */
import { DEFAULT_COLORMAP } from '../../shared/colormap';
import { orderMethods } from '../../shared/methods';
import { DEFAULT_METHODS, DEFAULT_OPACITY, DEFAULT_TOP_K } from '../constants';
import type { Slice, ViewSlice } from '../types';

export function viewSlice(): Slice<ViewSlice> {
  return (set, get) => ({
    mode: 'explore',
    setMode: (mode) => set({ mode }),
    colormap: DEFAULT_COLORMAP,
    opacity: DEFAULT_OPACITY,
    methods: [...DEFAULT_METHODS],
    topK: DEFAULT_TOP_K,
    gridTransposed: false,
    whileBusy: 'supersede',
    setWhileBusy: (choice) => set({ whileBusy: choice }),
    setColormap: (colormap) => set({ colormap }),
    setGridTransposed: (transposed) => set({ gridTransposed: transposed }),
    setOpacity: (opacity) => set({ opacity: Number.isFinite(opacity) ? Math.max(0, Math.min(1, opacity)) : DEFAULT_OPACITY }),
    toggleMethod: async (method) => {
      const methods = get().methods;
      const next = methods.includes(method) ? methods.filter((m) => m !== method) : [...methods, method];
      await get().setMethods(next);
    },
    setMethods: async (methods) => {
      set({ methods: orderMethods(methods) });
      await get().analyze();
    },
    setTopK: async (topK) => {
      const k = Math.max(1, Math.min(100, Math.round(Number.isFinite(topK) ? topK : DEFAULT_TOP_K)));
      if (k === get().topK) return;
      set({ topK: k });
      await get().analyze();
    },
  });
}
