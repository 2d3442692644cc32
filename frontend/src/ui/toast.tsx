// Short messages at the bottom right: errors from the server stay until dismissed or 8 s,
// confirmations go after 3 s. toast.error(e) takes an Error or a sentence.
import { create } from "zustand";
import { sentence } from "./text";

export type ToastKind = "error" | "info" | "success";
export interface ToastItem {
  id: number;
  kind: ToastKind;
  text: string;
}

interface ToastState {
  items: ToastItem[];
  push(kind: ToastKind, text: string): number;
  dismiss(id: number): void;
}

let nextId = 1;

export const useToasts = create<ToastState>((set, get) => ({
  items: [],
  push(kind, text) {
    const id = nextId++;
    set({ items: [...get().items.slice(-4), { id, kind, text: sentence(text) }] });
    const ms = kind === "error" ? 8000 : 3000;
    setTimeout(() => get().dismiss(id), ms);
    return id;
  },
  dismiss(id) {
    set({ items: get().items.filter((t) => t.id !== id) });
  },
}));

export const toast = {
  error(e: unknown) {
    const text = e instanceof Error ? e.message : String(e);
    return useToasts.getState().push("error", text);
  },
  info(text: string) {
    return useToasts.getState().push("info", text);
  },
  success(text: string) {
    return useToasts.getState().push("success", text);
  },
};

export function Toaster() {
  const items = useToasts((s) => s.items);
  const dismiss = useToasts((s) => s.dismiss);
  return (
    <div className="toasts" aria-live="polite">
      {items.map((t) => (
        <div
          key={t.id}
          className={`toast toast-${t.kind}`}
          role={t.kind === "error" ? "alert" : "status"}
          data-testid={`toast-${t.kind}`}
        >
          <span className="toast-text">{t.text}</span>
          <button className="toast-close" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
