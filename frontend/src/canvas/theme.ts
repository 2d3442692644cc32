// Colours, sizes and icons shared by the canvas and the palette. One accent (blue) for
// selection and focus; categories get muted hues so a large graph stays readable.

export const ACCENT = "#5b5bd6"; // the app's --accent
export const NODE_W = 144;
export const NODE_H = 52;
export const PORT_R = 5;

export const CATEGORY_COLORS: Record<string, string> = {
  edge: "#475569",
  network: "#0891b2",
  compute: "#2f6fdb",
  storage: "#c2410c",
  messaging: "#7c3aed",
  resilience: "#be185d",
  external: "#4d7c0f",
  coordination: "#0f766e",
};
export const DEFAULT_COLOR = "#6b7280";

export const categoryColor = (category: string | undefined) =>
  (category && CATEGORY_COLORS[category]) || DEFAULT_COLOR;

export const CATEGORY_ORDER = [
  "edge", "network", "compute", "storage", "messaging", "resilience", "coordination", "external",
];

/** Stroke icons on a 24x24 grid (lucide-like shapes, drawn with a 2 px line). */
export const ICON_PATHS: Record<string, string> = {
  server:
    "M4 3h16a1 1 0 0 1 1 1v6a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1z" +
    "M4 13h16a1 1 0 0 1 1 1v6a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1v-6a1 1 0 0 1 1-1zM7 7h.01M7 17h.01",
  database: "M3 5a9 3 0 1 0 18 0a9 3 0 1 0-18 0M3 5v14a9 3 0 0 0 18 0V5M3 12a9 3 0 0 0 18 0",
  zap: "M13 2 3 14h9l-1 8 10-12h-9l1-8z",
  "zap-off": "M12.4 6.6 13 2l-2.6 3.2M17.6 12.6 21 10h-5.5M8 8l-5 6h9l-1 8 5-6M2 2l20 20",
  users:
    "M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2M5 7a4 4 0 1 0 8 0a4 4 0 1 0-8 0" +
    "M22 21v-2a4 4 0 0 0-3-3.87M16 3.13a4 4 0 0 1 0 7.75",
  globe:
    "M2 12a10 10 0 1 0 20 0a10 10 0 1 0-20 0M2 12h20" +
    "M12 2a15.3 15.3 0 0 1 4 10 15.3 15.3 0 0 1-4 10 15.3 15.3 0 0 1-4-10 15.3 15.3 0 0 1 4-10z",
  cloud: "M17.5 19H9a7 7 0 1 1 6.71-9h1.79a4.5 4.5 0 1 1 0 9z",
  split: "M16 3h5v5M8 3H3v5M12 22v-8.3a4 4 0 0 0-1.17-2.87L3 3M15 9l6-6",
  shield: "M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z",
  function: "M4 4h16v16H4zM9 17c2 0 2.8-1 2.8-2.8V10c0-2 1-3.3 3.2-3M9 11.2h5.7",
  cpu: "M6 6h12v12H6zM9 9h6v6H9zM9 2v2M15 2v2M9 20v2M15 20v2M2 9h2M2 15h2M20 9h2M20 15h2",
  copy: "M8 8h14v14H8zM4 16c-1.1 0-2-.9-2-2V4c0-1.1.9-2 2-2h10c1.1 0 2 .9 2 2",
  grid: "M3 3h18v18H3zM3 9h18M3 15h18M9 3v18M15 3v18",
  archive: "M2 3h20v5H2zM4 8v11a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8M10 12h4",
  search: "M3 11a8 8 0 1 0 16 0a8 8 0 1 0-16 0M21 21l-4.3-4.3",
  inbox:
    "M22 12h-6l-2 3h-4l-2-3H2M5.45 5.11 2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6" +
    "l-3.45-6.89A2 2 0 0 0 16.76 4H7.24a2 2 0 0 0-1.79 1.11z",
  radio:
    "M4.9 19.1C1 15.2 1 8.8 4.9 4.9M7.8 16.2c-2.3-2.3-2.3-6.1 0-8.5" +
    "M10 12a2 2 0 1 0 4 0a2 2 0 1 0-4 0M16.2 7.8c2.3 2.3 2.3 6.1 0 8.5M19.1 4.9C23 8.8 23 15.1 19.1 19",
  layers: "M12 2 2 7l10 5 10-5-10-5zM2 17l10 5 10-5M2 12l10 5 10-5",
  gauge: "M12 14l4-4M3.34 19a10 10 0 1 1 17.32 0",
  plug: "M12 22v-5M9 8V2M15 8V2M18 8v5a4 4 0 0 1-4 4h-4a4 4 0 0 1-4-4V8z",
  "git-branch":
    "M6 3v12M15 6a3 3 0 1 0 6 0a3 3 0 1 0-6 0M3 18a3 3 0 1 0 6 0a3 3 0 1 0-6 0M18 9a9 9 0 0 1-9 9",
  "check-check": "M18 6 7 17l-5-5M22 10l-7.5 7.5L13 16",
  "book-open": "M2 3h6a4 4 0 0 1 4 4v14a3 3 0 0 0-3-3H2zM22 3h-6a4 4 0 0 0-4 4v14a3 3 0 0 1 3-3h7z",
  vote: "M9 12l2 2 4-4M5 7c0-1.1.9-2 2-2h10a2 2 0 0 1 2 2v12H5V7zM22 19H2",
  filter: "M22 3H2l8 9.46V19l4 2v-8.54L22 3z",
  box:
    "M21 8a2 2 0 0 0-1-1.73l-7-4a2 2 0 0 0-2 0l-7 4A2 2 0 0 0 3 8v8a2 2 0 0 0 1 1.73l7 4" +
    "a2 2 0 0 0 2 0l7-4A2 2 0 0 0 21 16zM3.3 7 12 12l8.7-5M12 22V12",
};

export const iconPath = (icon: string | undefined) =>
  (icon && ICON_PATHS[icon]) || ICON_PATHS.box;

const path2dCache = new Map<string, Path2D>();
/** A Path2D per icon, made once (null where the browser has none, e.g. jsdom). */
export function iconPath2D(icon: string | undefined): Path2D | null {
  const key = icon && ICON_PATHS[icon] ? icon : "box";
  let p = path2dCache.get(key);
  if (!p) {
    if (typeof Path2D === "undefined") return null;
    p = new Path2D(ICON_PATHS[key]);
    path2dCache.set(key, p);
  }
  return p;
}
