// Server-side validation of the design being edited (POST /api/validate), debounced; problems
// are kept by JSONPath so the property panel can show each next to its field.
import { create } from "zustand";
import { ApiError, api } from "../api/client";
import type { ValidationProblem } from "../api/types";
import { useDesign } from "../store/design";

export interface ValidationStore {
  problems: ValidationProblem[];
  byPath: Record<string, string[]>;
  componentErrors: Set<number>;
  edgeErrors: Set<number>;
  checking: boolean;
  error: string | null;
  set(problems: ValidationProblem[]): void;
}

export function indexProblems(problems: ValidationProblem[]) {
  const byPath: Record<string, string[]> = {};
  const componentErrors = new Set<number>();
  const edgeErrors = new Set<number>();
  for (const p of problems) {
    (byPath[p.path] ??= []).push(p.reason);
    const c = /^\$\.components\[(\d+)\]/.exec(p.path);
    if (c) componentErrors.add(Number(c[1]));
    const e = /^\$\.edges\[(\d+)\]/.exec(p.path);
    if (e) edgeErrors.add(Number(e[1]));
  }
  return { byPath, componentErrors, edgeErrors };
}

export const useValidation = create<ValidationStore>((set) => ({
  problems: [],
  byPath: {},
  componentErrors: new Set(),
  edgeErrors: new Set(),
  checking: false,
  error: null,
  set(problems) {
    set({ problems, ...indexProblems(problems), error: null });
  },
}));

/** Problems whose path is `path` or lies under it (`$.components[2]` gets its params' too). */
export function problemsUnder(byPath: Record<string, string[]>, path: string, exact = true): string[] {
  if (exact) return byPath[path] ?? [];
  const out: string[] = [];
  for (const [p, reasons] of Object.entries(byPath)) {
    if (p === path || p.startsWith(path + ".") || p.startsWith(path + "[")) out.push(...reasons);
  }
  return out;
}

let timer: ReturnType<typeof setTimeout> | null = null;
let seq = 0;

async function validateNow() {
  const doc = useDesign.getState().toJSON();
  const mine = ++seq;
  if (doc.components.length === 0) {
    useValidation.getState().set([]);
    return;
  }
  useValidation.setState({ checking: true });
  try {
    await api("POST", "/api/validate", doc);
    if (mine === seq) useValidation.getState().set([]);
  } catch (e) {
    if (mine !== seq) return;
    if (e instanceof ApiError && e.status === 422 && e.errors) useValidation.getState().set(e.errors);
    else useValidation.setState({ error: (e as Error).message });
  } finally {
    if (mine === seq) useValidation.setState({ checking: false });
  }
}

/** Validate after the design has been still for delay ms; returns the unsubscribe. */
export function startValidation(delay = 600): () => void {
  let last = useDesign.getState().doc;
  const unsub = useDesign.subscribe((s) => {
    if (s.doc === last) return;
    last = s.doc;
    if (timer) clearTimeout(timer);
    timer = setTimeout(validateNow, delay);
  });
  if (timer) clearTimeout(timer);
  timer = setTimeout(validateNow, 50);
  return () => {
    unsub();
    if (timer) clearTimeout(timer);
    timer = null;
    seq++;
  };
}
