/** React access to the studio store: a context carrying the vanilla store, one selector per read. */
import { createContext, createElement, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { StudioState, StudioStore } from './types';

const StudioContext = createContext<StudioStore | null>(null);

export function StudioProvider({ store, children }: { store: StudioStore; children: ReactNode }): ReactNode {
  return createElement(StudioContext.Provider, { value: store }, children);
}

export function useStudioStore(): StudioStore {
  const store = useContext(StudioContext);
  if (!store) throw new Error('useStudio must be used inside <StudioProvider>');
  return store;
}

/** Reads one slice of state; pass `useShallow(...)` for selectors that build objects or arrays. */
export function useStudio<T>(selector: (state: StudioState) => T): T {
  return useStore(useStudioStore(), selector);
}
