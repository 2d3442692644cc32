// The WebSocket client: frames encoded with the generated schema decode to the same values;
// replies settle the right pending request; reconnect backs off and re-subscribes.
import { create, toBinary } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ComponentStatSchema,
  EdgeStatSchema,
  FrameSchema,
  HopSchema,
  NoticeSchema,
  SimState,
  TotalsSchema,
} from "../gen/sdsim_pb";
vi.mock("./client", () => ({
  getAccessToken: () => "tok",
  refreshSession: vi.fn(async () => null),
}));

import { refreshSession } from "./client";
import { backoffMs, decodeFrame, SimSocket, type SocketLike } from "./ws";

function sampleFrame() {
  return create(FrameSchema, {
    simulationId: "s1",
    seq: 7,
    state: SimState.RUNNING,
    simTime: 12.5,
    duration: 60,
    speed: 10,
    window: 1,
    events: 123456789012n,
    totals: create(TotalsSchema, {
      arrivalRate: 900,
      throughput: 897.5,
      errorRate: 0.0025,
      p50Ms: 3.5,
      p95Ms: 9.25,
      p99Ms: 15.5,
      completed: 11000n,
      failed: 28n,
      dropped: 2n,
      costMonth: 1022,
      bottleneck: 2,
    }),
    components: [
      create(ComponentStatSchema, { index: 0, arrivalRate: 900, throughput: 900, utilization: 0 }),
      create(ComponentStatSchema, {
        index: 2, arrivalRate: 270, throughput: 265, errorRate: 5, utilization: 0.8125,
        queue: 3.25, p99Ms: 20.5, replicas: 3, down: true, errors: 99n,
      }),
    ],
    edges: [create(EdgeStatSchema, { index: 1, rate: 270, errorRate: 5, partitioned: true, breaker: 1 })],
    hops: [create(HopSchema, { edge: 1, at: 0.25, ok: false })],
    notices: [create(NoticeSchema, { at: 12, kind: "fault", text: "db crashed", component: 2 })],
    error: "",
  });
}

describe("decodeFrame", () => {
  it("decodes every field of a frame encoded with the same schema", () => {
    const bytes = toBinary(FrameSchema, sampleFrame());
    // As the browser receives it: an ArrayBuffer holding exactly the message.
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const f = decodeFrame(buf as ArrayBuffer);
    expect(f.simulationId).toBe("s1");
    expect(f.seq).toBe(7);
    expect(f.state).toBe(SimState.RUNNING);
    expect(f.simTime).toBe(12.5);
    expect(f.events).toBe(123456789012n);
    expect(f.totals?.throughput).toBe(897.5);
    expect(f.totals?.p99Ms).toBe(15.5); // float32: 15.5 is exact
    expect(f.totals?.bottleneck).toBe(2);
    expect(f.components).toHaveLength(2);
    expect(f.components[1].index).toBe(2);
    expect(f.components[1].utilization).toBe(0.8125);
    expect(f.components[1].down).toBe(true);
    expect(f.components[1].errors).toBe(99n);
    expect(f.edges[0].partitioned).toBe(true);
    expect(f.edges[0].breaker).toBe(1);
    expect(f.hops[0]).toMatchObject({ edge: 1, at: 0.25, ok: false });
    expect(f.notices[0].text).toBe("db crashed");
  });

  it("decodes an empty message to defaults and refuses garbage", () => {
    const f = decodeFrame(new Uint8Array(0));
    expect(f.simTime).toBe(0);
    expect(f.components).toEqual([]);
    expect(() => decodeFrame(new Uint8Array([0x0a, 0xff, 0xff, 0xff]))).toThrow();
  });
});

describe("backoffMs", () => {
  it("doubles from 0.5 s to at most 10 s (+-25% jitter)", () => {
    expect(backoffMs(0, () => 0.5)).toBe(500);
    expect(backoffMs(1, () => 0.5)).toBe(1000);
    expect(backoffMs(3, () => 0.5)).toBe(4000);
    expect(backoffMs(20, () => 0.5)).toBe(10000);
    expect(backoffMs(20, () => 0)).toBe(7500);
    expect(backoffMs(20, () => 1)).toBe(12500);
  });
});

class FakeSocket implements SocketLike {
  readyState = 0;
  binaryType = "blob";
  sent: unknown[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(public url: string) {}
  send(d: string) {
    this.sent.push(JSON.parse(d));
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
    // The client authenticates first; the server accepts.
    const first = this.sent.shift() as { type: string; token: string };
    if (first?.type !== "auth" || first.token !== "tok") throw new Error("no auth message first");
    this.recv(JSON.stringify({ type: "auth_ok", user: { id: "u" } }));
  }
  recv(data: unknown) {
    this.onmessage?.({ data: typeof data === "string" ? data : data });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

describe("SimSocket", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const socks: FakeSocket[] = [];
    const s = new SimSocket(
      (url) => {
        const f = new FakeSocket(url);
        socks.push(f);
        return f;
      },
      () => "ws://x/ws",
    );
    return { s, socks };
  }

  it("subscribes on open, hands decoded frames on, settles control replies by id", async () => {
    const { s, socks } = setup();
    const frames: number[] = [];
    s.frameHandler = (f) => frames.push(f.seq);
    s.subscribe("sim-1");
    expect(socks).toHaveLength(1);
    expect(socks[0].binaryType).toBe("arraybuffer");
    socks[0].open();
    expect(socks[0].sent).toEqual([{ type: "subscribe", simulation: "sim-1" }]);
    socks[0].recv(toBinary(FrameSchema, sampleFrame()));
    expect(frames).toEqual([7]);
    socks[0].recv(new Uint8Array([0x0a, 0xff])); // malformed: counted, not thrown
    expect(s.badFrames).toBe(1);

    const p1 = s.control("sim-1", "pause");
    const p2 = s.console("print(1)");
    const sent = socks[0].sent as Array<{ id: number; type: string }>;
    expect(sent[1]).toMatchObject({ type: "control", simulation: "sim-1", action: "pause" });
    // Replies out of order: the console result first, without an id (matched by type).
    socks[0].recv(JSON.stringify({ type: "console_result", output: "1\n", error: null }));
    socks[0].recv(JSON.stringify({ type: "control_ok", id: sent[1].id, status: { state: "paused" } }));
    await expect(p2).resolves.toMatchObject({ output: "1\n" });
    await expect(p1).resolves.toMatchObject({ status: { state: "paused" } });

    const p3 = s.control("sim-1", "stop");
    socks[0].recv(JSON.stringify({ type: "error", error: "no such simulation" }));
    await expect(p3).rejects.toThrow("no such simulation");
  });

  it("reconnects with backoff and subscribes again; pending requests fail on close", async () => {
    const { s, socks } = setup();
    s.subscribe("a");
    socks[0].open();
    const p = s.control("a", "pause");
    socks[0].drop();
    await expect(p).rejects.toThrow(/closed/);
    expect(s.status).toBe("closed");
    vi.advanceTimersByTime(300);
    expect(socks).toHaveLength(1); // backoff >= 375 ms
    vi.advanceTimersByTime(400);
    expect(socks).toHaveLength(2);
    socks[1].open();
    expect(socks[1].sent).toEqual([{ type: "subscribe", simulation: "a" }]);
    s.unsubscribe("a");
    expect(socks[1].sent[1]).toEqual({ type: "unsubscribe", simulation: "a" });
    s.disconnect();
    vi.advanceTimersByTime(20000);
    expect(socks).toHaveLength(2);
  });

  it("a refused token: no open, a token refresh, and a slower retry", async () => {
    const { s, socks } = setup();
    s.subscribe("a");
    socks[0].readyState = 1;
    socks[0].onopen?.({});
    expect(socks[0].sent[0]).toEqual({ type: "auth", token: "tok" });
    socks[0].recv(JSON.stringify({ type: "error", for: "auth", error: "invalid token: expired" }));
    expect(s.status).toBe("connecting"); // not open: nothing subscribed
    expect(socks[0].sent).toHaveLength(1);
    socks[0].drop(4401);
    expect(refreshSession).toHaveBeenCalled();
    vi.advanceTimersByTime(800);
    expect(socks).toHaveLength(2);
    socks[1].readyState = 1;
    socks[1].onopen?.({});
    socks[1].drop(4401); // refused again: the attempt count was not reset, so >= 750 ms
    vi.advanceTimersByTime(700);
    expect(socks).toHaveLength(2);
    vi.advanceTimersByTime(1000);
    expect(socks).toHaveLength(3);
  });

  it("times out a request nobody answers", async () => {
    const { s, socks } = setup();
    s.connect();
    socks[0].open();
    const p = s.request({ type: "console", code: "x" }, "console_result", 1000);
    vi.advanceTimersByTime(1001);
    await expect(p).rejects.toThrow(/no answer/);
  });
});
