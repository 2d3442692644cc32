// The palette: every component type from GET /api/components by category, with a search box.
// Drag an item onto the canvas, or click it to place it in the middle of the view.
import { useEffect, useMemo, useState } from "react";
import type { ComponentType } from "../api/types";
import { DRAG_TYPE, canvasApi } from "../canvas/api";
import { CATEGORY_ORDER, categoryColor } from "../canvas/theme";
import { useDesign } from "../store/design";
import { useCatalog } from "./catalog";
import { Icon } from "./PropertyPanel";

function matches(t: ComponentType, q: string) {
  if (!q) return true;
  const s = q.toLowerCase();
  return t.name.toLowerCase().includes(s) || t.label.toLowerCase().includes(s) ||
    t.category.toLowerCase().includes(s) || (t.description ?? "").toLowerCase().includes(s);
}

/** Place a component of this type in the middle of the view, beside others already there. */
export function placeAtCenter(type: string) {
  const c = canvasApi.center();
  const doc = useDesign.getState().doc;
  let x = c.x, y = c.y;
  for (let k = 0; k < 20 && doc.components.some((o) => Math.abs((o.x ?? 0) - x) < 100 && Math.abs((o.y ?? 0) - y) < 40); k++) {
    y += 80;
  }
  useDesign.getState().addComponent(type, x, y);
}

export function Palette() {
  const types = useCatalog((s) => s.types);
  const loading = useCatalog((s) => s.loading);
  const error = useCatalog((s) => s.error);
  const broken = useCatalog((s) => s.broken);
  const [q, setQ] = useState("");
  useEffect(() => { void useCatalog.getState().load(); }, []);

  const groups = useMemo(() => {
    const by = new Map<string, ComponentType[]>();
    for (const t of types) {
      if (!matches(t, q)) continue;
      const list = by.get(t.category) ?? [];
      list.push(t);
      by.set(t.category, list);
    }
    const cats = [...by.keys()].sort((a, b) => {
      const ia = CATEGORY_ORDER.indexOf(a), ib = CATEGORY_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
    });
    return cats.map((c) => [c, by.get(c)!.sort((a, b) => a.label.localeCompare(b.label))] as const);
  }, [types, q]);

  return (
    <aside className="palette" data-testid="palette">
      <div className="palette-search">
        <input className="pf-input" type="search" placeholder="Search components" value={q}
          data-testid="palette-search" onChange={(e) => setQ(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && groups.length) placeAtCenter(groups[0][1][0].name);
            if (e.key === "Escape") { setQ(""); (e.target as HTMLInputElement).blur(); }
          }} />
      </div>
      <div className="palette-list">
        {loading && types.length === 0 && <div className="palette-note">Loading components…</div>}
        {error && (
          <div className="palette-note palette-error">
            {error}
            <button className="pp-link" onClick={() => void useCatalog.getState().reload()}>Retry</button>
          </div>
        )}
        {groups.map(([cat, list]) => (
          <div key={cat} className="palette-group">
            <div className="palette-cat">{cat}</div>
            {list.map((t) => (
              <div
                key={t.name}
                className="palette-item"
                role="button"
                tabIndex={0}
                draggable
                data-testid={`palette-item-${t.name}`}
                title={`${t.label} (${t.name})\n${t.description ?? ""}\nDrag onto the canvas, or click to add.`}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_TYPE, t.name);
                  e.dataTransfer.setData("text/plain", t.name);
                  e.dataTransfer.effectAllowed = "copy";
                }}
                onClick={() => placeAtCenter(t.name)}
                onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); placeAtCenter(t.name); } }}
              >
                <span className="palette-icon" style={{ color: categoryColor(t.category), background: categoryColor(t.category) + "1a" }}>
                  <Icon name={t.icon} size={15} />
                </span>
                <span className="palette-label">{t.label}</span>
              </div>
            ))}
          </div>
        ))}
        {!loading && !error && groups.length === 0 && types.length > 0 && (
          <div className="palette-note">Nothing matches “{q}”.</div>
        )}
        {Object.keys(broken).length > 0 && (
          <div className="palette-note palette-error" title={Object.entries(broken).map(([k, v]) => `${k}: ${v}`).join("\n")}>
            {Object.keys(broken).length} type file(s) failed to load: {Object.keys(broken).join(", ")}
          </div>
        )}
      </div>
    </aside>
  );
}
