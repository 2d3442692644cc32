// Routes live in the URL hash (#/login, #/projects, #/templates, #/p/<id>) so a reload keeps
// the place and the server needs no knowledge of them.
import { useSyncExternalStore } from "react";

export type Route =
  | { name: "login" }
  | { name: "register" }
  | { name: "projects" }
  | { name: "templates" }
  | { name: "editor"; projectId: string };

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, "");
  const parts = h.split("/").filter(Boolean);
  switch (parts[0]) {
    case "login":
      return { name: "login" };
    case "register":
      return { name: "register" };
    case "templates":
      return { name: "templates" };
    case "p":
      if (parts[1]) return { name: "editor", projectId: decodeURIComponent(parts[1]) };
      return { name: "projects" };
    default:
      return { name: "projects" };
  }
}

export function routeHash(r: Route): string {
  switch (r.name) {
    case "editor":
      return `#/p/${encodeURIComponent(r.projectId)}`;
    default:
      return `#/${r.name}`;
  }
}

export function navigate(r: Route, opts: { replace?: boolean } = {}): void {
  const hash = routeHash(r);
  if (window.location.hash === hash) return;
  if (opts.replace) {
    const url = window.location.pathname + window.location.search + hash;
    window.history.replaceState(null, "", url);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    window.location.hash = hash;
  }
}

function subscribe(cb: () => void) {
  window.addEventListener("hashchange", cb);
  return () => window.removeEventListener("hashchange", cb);
}

/** The current hash; re-renders on every change. */
export function useHash(): string {
  return useSyncExternalStore(subscribe, () => window.location.hash);
}
