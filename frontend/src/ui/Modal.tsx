// A modal dialog: focus moves into it and comes back when it closes, Escape cancels, Tab stays
// inside, Enter submits (the body is a form). ConfirmDialog and PromptDialog build on it.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { sentence } from "./text";

interface ModalProps {
  title: string;
  onClose(): void;
  children: ReactNode;
  testId?: string;
}

export function Modal({ title, onClose, children, testId }: ModalProps) {
  const ref = useRef<HTMLDivElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const el = ref.current;
    const first = el?.querySelector<HTMLElement>("[data-autofocus]") ?? focusables(el)[0];
    first?.focus();
    return () => before?.focus?.();
  }, []);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      closeRef.current();
    } else if (e.key === "Tab") {
      const f = focusables(ref.current);
      if (f.length === 0) return;
      const i = f.indexOf(document.activeElement as HTMLElement);
      if (e.shiftKey && i <= 0) {
        e.preventDefault();
        f[f.length - 1].focus();
      } else if (!e.shiftKey && i === f.length - 1) {
        e.preventDefault();
        f[0].focus();
      }
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={ref}
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="modal-title"
        data-testid={testId ?? "modal"}
        onKeyDown={onKeyDown}
      >
        <h2 id="modal-title" className="modal-title">{title}</h2>
        {children}
      </div>
    </div>
  );
}

function focusables(el: HTMLElement | null): HTMLElement[] {
  if (!el) return [];
  return Array.from(
    el.querySelectorAll<HTMLElement>(
      "button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]:not([tabindex='-1'])",
    ),
  );
}

interface ConfirmProps {
  title: string;
  message: ReactNode;
  confirmLabel?: string;
  danger?: boolean;
  onConfirm(): Promise<void> | void;
  onClose(): void;
}

/** "Delete project?" with Cancel / Delete; the confirm button waits for onConfirm. */
export function ConfirmDialog({ title, message, confirmLabel = "OK", danger, onConfirm,
                                onClose }: ConfirmProps) {
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await onConfirm();
      onClose();
    } catch {
      setBusy(false); // onConfirm reported its error; the dialog stays
    }
  };
  return (
    <Modal title={title} onClose={onClose} testId="confirm-dialog">
      <form onSubmit={submit}>
        <div className="modal-body">{message}</div>
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button
            type="submit"
            className={danger ? "btn btn-danger" : "btn btn-primary"}
            disabled={busy}
            data-autofocus
            data-testid="confirm-ok"
          >
            {confirmLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}

interface PromptProps {
  title: string;
  label: string;
  initial?: string;
  confirmLabel?: string;
  maxLength?: number;
  onSubmit(value: string): Promise<void> | void;
  onClose(): void;
}

/** One text field (e.g. rename); empty values are refused before the server sees them. */
export function PromptDialog({ title, label, initial = "", confirmLabel = "Save",
                               maxLength = 200, onSubmit, onClose }: PromptProps) {
  const [value, setValue] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  useEffect(() => inputRef.current?.select(), []);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const v = value.trim();
    if (!v) {
      setError(`${label} cannot be empty`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSubmit(v);
      onClose();
    } catch (err) {
      setBusy(false);
      setError((err as Error).message);
    }
  };
  return (
    <Modal title={title} onClose={onClose} testId="prompt-dialog">
      <form onSubmit={submit}>
        <label className="field">
          <span className="field-label">{label}</span>
          <input
            ref={inputRef}
            className="input"
            value={value}
            maxLength={maxLength}
            onChange={(e) => setValue(e.target.value)}
            data-autofocus
            data-testid="prompt-input"
          />
        </label>
        {error && <div className="form-error" role="alert">{sentence(error)}</div>}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" className="btn btn-primary" disabled={busy}
                  data-testid="prompt-ok">
            {confirmLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}
