// The one WebSocket to the server's /ws (plan2.md): authenticated with the access token
// ({"type":"auth"} as the first message, answered by auth_ok),
// reconnected with exponential backoff, re-subscribing after each reconnect. Text messages
// are JSON (control replies, console results, "ended"); binary messages are protobuf Frames
// decoded here and handed to the frame handler (the sim store).
import { fromBinary } from "@bufbuild/protobuf";
import { FrameSchema, type Frame } from "../gen/sdsim_pb";
import { getAccessToken, refreshSession } from "./client";

export type WsStatus = "idle" | "connecting" | "open" | "closed";

export interface WsMessage {
  type: string;
  [k: string]: unknown;
}

/** Decode one binary WebSocket message into a Frame (throws on malformed bytes). */
export function decodeFrame(data: ArrayBuffer | Uint8Array): Frame {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  return fromBinary(FrameSchema, bytes);
}

/** Delay before reconnect attempt n (0-based): 0.5 s doubling to 10 s, with jitter. */
export function backoffMs(attempt: number, rand: () => number = Math.random): number {
  const base = Math.min(10_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.75 + 0.5 * rand()));
}

interface Pending {
  id: number;
  expect: string; // reply type that resolves it
  resolve: (m: WsMessage) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

type Listener = (m: WsMessage) => void;

/** Minimal socket surface, so tests can drive the client with a fake. */
export interface SocketLike {
  readyState: number;
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export class SimSocket {
  status: WsStatus = "idle";
  private ws: SocketLike | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private subs = new Set<string>();
  private pending: Pending[] = [];
  private nextId = 1;
  private listeners = new Set<Listener>();
  private statusListeners = new Set<(s: WsStatus) => void>();
  private wanted = false;
  frameHandler: ((f: Frame) => void) | null = null;
  /** Counts frames that failed to decode (shown in the console tab on trouble). */
  badFrames = 0;

  constructor(
    private makeSocket: (url: string) => SocketLike = (url) =>
      new WebSocket(url) as unknown as SocketLike,
    private urlFor: () => string = defaultUrl,
  ) {}

  /** Open the socket if it is not (idempotent). */
  connect(): void {
    this.wanted = true;
    if (this.ws || this.retryTimer) return;
    this.open();
  }

  /** Close for good (sign-out); no reconnect. */
  disconnect(): void {
    this.wanted = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, "bye");
    this.failPending("disconnected");
    this.setStatus("closed");
  }

  onMessage(l: Listener): () => void {
    this.listeners.add(l);
    return () => {
      this.listeners.delete(l);
    };
  }

  onStatus(l: (s: WsStatus) => void): () => void {
    this.statusListeners.add(l);
    return () => {
      this.statusListeners.delete(l);
    };
  }

  subscribe(simulation: string): void {
    this.subs.add(simulation);
    this.connect();
    if (this.isOpen()) this.sendJson({ type: "subscribe", simulation });
  }

  unsubscribe(simulation: string): void {
    if (!this.subs.delete(simulation)) return;
    if (this.isOpen()) this.sendJson({ type: "unsubscribe", simulation });
  }

  isOpen(): boolean {
    return !!this.ws && this.ws.readyState === 1 && this.status === "open";
  }

  /**
   * Send a request and wait for its reply of type `expect` (or an error). Replies are matched
   * by the echoed `id` when the server echoes it, else in order.
   */
  request(msg: WsMessage, expect: string, timeoutMs = 10_000): Promise<WsMessage> {
    this.connect();
    return new Promise((resolve, reject) => {
      if (!this.isOpen()) {
        reject(new Error("not connected to the server"));
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending = this.pending.filter((p) => p.id !== id);
        reject(new Error(`no answer from the server within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.push({ id, expect, resolve, reject, timer });
      this.sendJson({ ...msg, id });
    });
  }

  control(simulation: string, action: string, fields: Record<string, unknown> = {}) {
    return this.request({ type: "control", simulation, action, ...fields }, "control_ok");
  }

  console(code: string, timeoutMs = 15_000) {
    return this.request({ type: "console", code }, "console_result", timeoutMs);
  }

  private sendJson(m: unknown) {
    this.ws?.send(JSON.stringify(m));
  }

  private setStatus(s: WsStatus) {
    if (this.status === s) return;
    this.status = s;
    this.statusListeners.forEach((l) => l(s));
  }

  private open() {
    this.setStatus("connecting");
    let ws: SocketLike;
    try {
      ws = this.makeSocket(this.urlFor());
    } catch {
      this.scheduleRetry();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      // Authenticate with the first message (the token stays out of URLs and logs); the
      // socket counts as open once the server answers auth_ok.
      const token = getAccessToken();
      if (token) this.sendJson({ type: "auth", token });
      else this.authenticated();
    };
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.handle(ev.data);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failPending("the connection to the server closed");
      this.setStatus("closed");
      if (!this.wanted) return;
      // Refused token: refresh it once before the next attempt.
      if (ev.code === 4401 || ev.code === 1008) void refreshSession();
      this.scheduleRetry();
    };
  }

  private authenticated() {
    this.attempt = 0;
    this.setStatus("open");
    for (const s of this.subs) this.sendJson({ type: "subscribe", simulation: s });
  }

  private scheduleRetry() {
    if (!this.wanted || this.retryTimer) return;
    const delay = backoffMs(this.attempt++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.wanted && !this.ws) this.open();
    }, delay);
  }

  private failPending(why: string) {
    const p = this.pending;
    this.pending = [];
    for (const x of p) {
      clearTimeout(x.timer);
      x.reject(new Error(why));
    }
  }

  /** One incoming message (exposed for tests). */
  handle(data: unknown) {
    if (typeof data !== "string") {
      let f: Frame;
      try {
        f = decodeFrame(data instanceof ArrayBuffer ? data : (data as Uint8Array));
      } catch {
        this.badFrames++;
        return;
      }
      this.frameHandler?.(f);
      return;
    }
    let m: WsMessage;
    try {
      m = JSON.parse(data) as WsMessage;
    } catch {
      return;
    }
    if (!m || typeof m.type !== "string") return;
    if (m.type === "auth_ok" && this.status !== "open") {
      this.authenticated();
      return;
    }
    if (m.type === "error" && m.for === "auth") return; // the close (4401) follows
    this.settle(m);
    this.listeners.forEach((l) => l(m));
  }

  private settle(m: WsMessage) {
    if (m.type !== "error" && !this.pending.some((p) => p.expect === m.type)) return;
    let i: number;
    if (typeof m.id === "number") i = this.pending.findIndex((p) => p.id === m.id);
    else i = m.type === "error" ? 0 : this.pending.findIndex((p) => p.expect === m.type);
    if (i < 0 || i >= this.pending.length) return;
    const [p] = this.pending.splice(i, 1);
    clearTimeout(p.timer);
    if (m.type === "error") p.reject(new Error(String(m.error ?? "error")));
    else p.resolve(m);
  }
}

/** The socket's address; the token goes in the first message, not the URL. */
function defaultUrl(): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws`;
}

/** The app's socket. */
export const simSocket = new SimSocket();
