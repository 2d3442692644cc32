import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfirmDialog, PromptDialog } from "./Modal";
import { toast, Toaster, useToasts } from "./toast";

afterEach(cleanup);

function Opener({ onSubmit }: { onSubmit(v: string): Promise<void> | void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button data-testid="opener" onClick={() => setOpen(true)}>open</button>
      {open && <PromptDialog title="Rename" label="Name" initial="abc" onSubmit={onSubmit}
                             onClose={() => setOpen(false)} />}
    </>
  );
}

describe("PromptDialog", () => {
  it("focuses the field, Escape closes and gives focus back to the opener", () => {
    render(<Opener onSubmit={() => undefined} />);
    const opener = screen.getByTestId("opener");
    opener.focus();
    fireEvent.click(opener);
    expect(document.activeElement).toBe(screen.getByTestId("prompt-input"));
    fireEvent.keyDown(screen.getByTestId("prompt-input"), { key: "Escape" });
    expect(screen.queryByTestId("prompt-dialog")).toBeNull();
    expect(document.activeElement).toBe(opener);
  });

  it("keeps Tab inside the dialog", () => {
    render(<Opener onSubmit={() => undefined} />);
    fireEvent.click(screen.getByTestId("opener"));
    const ok = screen.getByTestId("prompt-ok");
    ok.focus();
    fireEvent.keyDown(ok, { key: "Tab" });
    expect(document.activeElement).toBe(screen.getByTestId("prompt-input"));
    fireEvent.keyDown(screen.getByTestId("prompt-input"), { key: "Tab", shiftKey: true });
    expect(document.activeElement).toBe(ok);
  });

  it("refuses an empty value, shows the error of a failed submit and stays open", async () => {
    const onSubmit = vi.fn(async () => { throw new Error("name taken"); });
    render(<Opener onSubmit={onSubmit} />);
    fireEvent.click(screen.getByTestId("opener"));
    const input = screen.getByTestId("prompt-input");
    fireEvent.change(input, { target: { value: "   " } });
    fireEvent.submit(input.closest("form")!);
    expect(screen.getByRole("alert").textContent).toBe("Name cannot be empty");
    expect(onSubmit).not.toHaveBeenCalled();
    fireEvent.change(input, { target: { value: "x" } });
    fireEvent.submit(input.closest("form")!);
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("Name taken"));
    expect(screen.getByTestId("prompt-dialog")).toBeTruthy();
  });
});

describe("ConfirmDialog", () => {
  it("focuses the confirm button; Enter (submit) confirms and closes", async () => {
    const onConfirm = vi.fn();
    const onClose = vi.fn();
    render(<ConfirmDialog title="Delete?" message="sure" onConfirm={onConfirm} onClose={onClose} />);
    const ok = screen.getByTestId("confirm-ok");
    expect(document.activeElement).toBe(ok);
    fireEvent.submit(ok.closest("form")!);
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(onConfirm).toHaveBeenCalledOnce();
  });
});

describe("toast", () => {
  it("shows an error as text, capitalised, and can be dismissed", () => {
    useToasts.setState({ items: [] });
    render(<Toaster />);
    act(() => { toast.error(new Error("<b>boom</b> happened")); });
    const t = screen.getByTestId("toast-error");
    expect(t.textContent).toContain("<b>boom</b> happened");
    expect(t.querySelector("b")).toBeNull();
    fireEvent.click(screen.getByLabelText("Dismiss"));
    expect(screen.queryByTestId("toast-error")).toBeNull();
  });
});
