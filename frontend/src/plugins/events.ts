// "The user's component types changed": fired after a plugin is saved or deleted, so the
// palette (H5) reloads GET /api/components. Subscribe with onPluginsChanged(cb); it is a DOM
// event on window ("sdsim:plugins-changed") for code that prefers addEventListener.
export const PLUGINS_CHANGED = "sdsim:plugins-changed";

export function onPluginsChanged(cb: () => void): () => void {
  const h = () => cb();
  window.addEventListener(PLUGINS_CHANGED, h);
  return () => window.removeEventListener(PLUGINS_CHANGED, h);
}

export function firePluginsChanged(): void {
  window.dispatchEvent(new Event(PLUGINS_CHANGED));
}
