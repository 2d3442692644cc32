// The component palette from GET /api/components (built-ins and the user's plugins, which
// appear as soon as they are saved: call reload() after saving a plugin).
import { create } from "zustand";
import { api } from "../api/client";
import type { ComponentList, ComponentType } from "../api/types";

export interface CatalogStore {
  types: ComponentType[];
  byName: Record<string, ComponentType>;
  broken: Record<string, string>;
  loading: boolean;
  error: string | null;
  loaded: boolean;
  load(): Promise<void>;
  reload(): Promise<void>;
  setTypes(types: ComponentType[]): void;
}

export const useCatalog = create<CatalogStore>((set, get) => ({
  types: [],
  byName: {},
  broken: {},
  loading: false,
  error: null,
  loaded: false,
  async load() {
    if (get().loaded || get().loading) return;
    await get().reload();
  },
  async reload() {
    set({ loading: true, error: null });
    try {
      const r = await api<ComponentList>("GET", "/api/components");
      get().setTypes(r.components ?? []);
      set({ broken: r.broken ?? {}, loading: false, loaded: true });
    } catch (e) {
      set({ loading: false, error: (e as Error).message });
    }
  },
  setTypes(types) {
    const byName: Record<string, ComponentType> = {};
    for (const t of types) byName[t.name] = t;
    set({ types, byName, loaded: true });
  },
}));
