import type { ReactNode } from "react";
import { sentence } from "./text";

/** A centred message with an optional action, for empty lists and failed loads. */
export function EmptyState({ title, children, action, tone = "neutral", testId }: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
  tone?: "neutral" | "error";
  testId?: string;
}) {
  return (
    <div className={`empty empty-${tone}`} data-testid={testId ?? "empty-state"}>
      <div className="empty-title">{title}</div>
      {children && (
        <div className="empty-text">
          {typeof children === "string" ? sentence(children) : children}
        </div>
      )}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <div className="spinner-wrap" role="status" aria-label={label}>
      <span className="spinner" />
    </div>
  );
}
