// The Lua console: Enter sends the code over the socket, output and errors are shown, Up
// brings back the last entry.
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";

const consoleFn = vi.fn();
vi.mock("../api/ws", () => ({ simSocket: { connect: () => {}, console: (c: string) => consoleFn(c) } }));

import { Console } from "./Console";

afterEach(() => {
  cleanup();
  consoleFn.mockReset();
  localStorage.clear();
});

describe("Console", () => {
  it("runs code and shows the printed text, then an error", async () => {
    consoleFn.mockResolvedValueOnce({ type: "console_result", output: "42\n", error: null });
    consoleFn.mockResolvedValueOnce({ type: "console_result", output: "", error: "console:1: boom" });
    render(<Console />);
    const input = screen.getByTestId("console-input");
    fireEvent.change(input, { target: { value: "print(6 * 7)" } });
    fireEvent.keyDown(input, { key: "Enter" });
    await waitFor(() => expect(screen.getByTestId("console-log").textContent).toContain("42"));
    expect(consoleFn).toHaveBeenCalledWith("print(6 * 7)");
    fireEvent.change(input, { target: { value: "error('boom')" } });
    fireEvent.keyDown(input, { key: "Enter" });
    await waitFor(() => expect(document.querySelector(".console-err")?.textContent).toBe("console:1: boom"));
    // Up walks back through what was sent.
    fireEvent.keyDown(input, { key: "ArrowUp" });
    expect((input as HTMLTextAreaElement).value).toBe("error('boom')");
    fireEvent.keyDown(input, { key: "ArrowUp" });
    expect((input as HTMLTextAreaElement).value).toBe("print(6 * 7)");
  });

  it("Shift+Enter does not send; a socket failure is shown as an error", async () => {
    consoleFn.mockRejectedValueOnce(new Error("not connected to the server"));
    render(<Console />);
    const input = screen.getByTestId("console-input");
    fireEvent.change(input, { target: { value: "x = 1" } });
    fireEvent.keyDown(input, { key: "Enter", shiftKey: true });
    expect(consoleFn).not.toHaveBeenCalled();
    fireEvent.keyDown(input, { key: "Enter" });
    await waitFor(() => expect(document.querySelector(".console-err")?.textContent).toBe("not connected to the server"));
  });
});
