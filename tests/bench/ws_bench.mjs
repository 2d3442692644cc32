// WebSocket figures of `sdsim serve` for `make bench` (started by tests/bench/server.sh):
//  1. held: N connections opened to /ws and held; every 100th answers a ping afterwards;
//     the server's RSS with them open.
//  2. fan-out: S subscribers (one user's token) of one live simulation: frames per second
//     each receives, seq gaps (frames replaced for slow readers), and the delivery delay of
//     each frame to each subscriber after the first one received it (p50/p99/max): the time
//     the server takes to write one frame to all S sockets, as seen by one client process.
// Printed, not asserted. The client is the `ws` package from frontend/node_modules (Node 20
// has no WebSocket client of its own); it shares the two cores with the server.
//   node ws_bench.mjs --url ws://127.0.0.1:P/ws --http http://127.0.0.1:P --token T
//                     [--server-pid PID] [--held 10000] [--subscribers 1000] [--seconds 10]
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(path.join(root, "frontend", "package.json"));
const WebSocket = require("ws");

const opt = { held: 10000, subscribers: 1000, seconds: 10 };
for (let i = 2; i < process.argv.length; i += 2) {
  opt[process.argv[i].replace(/^--/, "").replace(/-(\w)/g, (_, c) => c.toUpperCase())] =
    process.argv[i + 1];
}
const held = Number(opt.held);
const subscribers = Number(opt.subscribers);
const seconds = Number(opt.seconds);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssMB = () => {
  if (!opt.serverPid) return "?";
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${opt.serverPid}/status`, "utf8"));
    return (Number(m[1]) / 1024).toFixed(1);
  } catch {
    return "?";
  }
};
// CPU seconds used so far by the server (utime + stime of /proc/PID/stat) and by this client.
const serverCpu = () => {
  try {
    const f = readFileSync(`/proc/${opt.serverPid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // clock ticks: 100 a second on Linux
  } catch {
    return NaN;
  }
};
const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

/** Opens n sockets, `batch` handshakes in flight at a time; resolves to the open ones. */
async function openMany(n, url, batch = 200, onMessage = null) {
  const open = [];
  let failed = 0;
  let firstError = "";
  for (let i = 0; i < n; i += batch) {
    const k = Math.min(batch, n - i);
    await Promise.all(Array.from({ length: k }, () => new Promise((resolve) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const t = setTimeout(() => { ws.terminate(); failed += 1; resolve(); }, 20000);
      ws.once("open", () => { clearTimeout(t); open.push(ws); resolve(); });
      ws.once("error", (e) => {
        clearTimeout(t);
        failed += 1;
        firstError ||= e.message;
        resolve();
      });
      if (onMessage) ws.on("message", (data, isBinary) => onMessage(ws, data, isBinary));
    })));
  }
  return { open, failed, firstError };
}

async function heldConnections() {
  const rss0 = rssMB();
  const t0 = performance.now();
  const { open, failed, firstError } = await openMany(held, opt.url);
  const openMs = performance.now() - t0;
  await sleep(3000);
  const alive = open.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  // Every 100th answers a ping (the server's JSON ping, docs/http-api.md).
  const sample = open.filter((_, i) => i % 100 === 0);
  let pongs = 0;
  await Promise.all(sample.map((ws, i) => new Promise((resolve) => {
    const t = setTimeout(resolve, 5000);
    ws.on("message", (d) => {
      if (String(d).includes('"pong"')) { pongs += 1; clearTimeout(t); resolve(); }
    });
    ws.send(JSON.stringify({ type: "ping", id: i }));
  })));
  const rss1 = rssMB();
  console.log(`held: ${alive} of ${held} connections open after 3 s (${failed} failed` +
              `${firstError ? `: ${firstError}` : ""}; opened in ${(openMs / 1000).toFixed(1)} s),` +
              ` ${pongs}/${sample.length} pings answered; server RSS ${rss0} MB before,` +
              ` ${rss1} MB with them open  [target >= 10,000]`);
  for (const ws of open) ws.terminate();
  await sleep(1000);
}

// The Frame's seq (field 2, varint) without a protobuf library: skip field 1 (the id).
function frameSeq(buf) {
  let i = 0;
  const varint = () => {
    let v = 0;
    let s = 0;
    for (;;) {
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** s;
      if (b < 0x80) return v;
      s += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 2 && wire === 0) return varint();
    if (wire === 0) varint();
    else if (wire === 2) {
      const n = varint(); // not `i += varint()`: that adds to the i read before the call
      i += n;
    }
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else return -1;
  }
  return -1;
}

async function api(method, p, body) {
  const res = await fetch(opt.http + p, {
    method,
    headers: { authorization: `Bearer ${opt.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: json, text };
}

async function fanOut() {
  const design = JSON.parse(readFileSync(path.join(root, "tests/cli/data/three_tier.json"), "utf8"));
  const start = await api("POST", "/api/simulations/start",
                          { design, config: { duration: 600, speed: 1, seed: 1 } });
  if (start.status !== 201) {
    console.log(`fan-out: skipped: POST /api/simulations/start answered ${start.status}` +
                ` ${start.text.slice(0, 200)}`);
    return;
  }
  const sim = start.body.id;
  const arrivals = new Map(); // seq -> receive times (ms, performance.now)
  let frames = 0;
  let bytes = 0;
  let measuring = false;
  const lastSeq = new Map();
  let gaps = 0;
  const onMessage = (ws, data, isBinary) => {
    if (!isBinary || !measuring) return;
    const now = performance.now();
    const seq = frameSeq(data);
    frames += 1;
    bytes += data.length;
    const prev = lastSeq.get(ws);
    if (prev !== undefined && seq > prev + 1) gaps += seq - prev - 1;
    lastSeq.set(ws, seq);
    let a = arrivals.get(seq);
    if (!a) arrivals.set(seq, (a = []));
    a.push(now);
  };
  const { open, failed, firstError } = await openMany(subscribers, opt.url, 200, onMessage);
  let subscribed = 0;
  let refused = "";
  // Auth by the first message (as the app does), then subscribe.
  await Promise.all(open.map((ws) => new Promise((resolve) => {
    const t = setTimeout(resolve, 20000);
    ws.on("message", (d, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(String(d));
      if (m.type === "auth_ok") ws.send(JSON.stringify({ type: "subscribe", simulation: sim }));
      if (m.type === "subscribed") { subscribed += 1; clearTimeout(t); resolve(); }
      if (m.type === "error") { refused ||= m.error; clearTimeout(t); resolve(); }
    });
    ws.send(JSON.stringify({ type: "auth", token: opt.token }));
  })));
  await sleep(1000);
  measuring = true;
  const t0 = performance.now();
  const cpu0 = [serverCpu(), ownCpu()];
  const rssDuring = [];
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(1000);
    rssDuring.push(rssMB());
  }
  measuring = false;
  const wall = (performance.now() - t0) / 1000;
  const sCpu = ((serverCpu() - cpu0[0]) / wall) * 100;
  const cCpu = ((ownCpu() - cpu0[1]) / wall) * 100;
  await api("POST", `/api/simulations/${sim}/stop`);
  for (const ws of open) ws.terminate();

  const delays = [];
  for (const times of arrivals.values()) {
    const first = Math.min(...times);
    for (const t of times) delays.push(t - first);
  }
  delays.sort((a, b) => a - b);
  const perSub = frames / Math.max(1, subscribed) / wall;
  console.log(`fan-out: ${subscribed} of ${subscribers} subscribed to one simulation` +
              ` (${failed} connections failed${firstError ? `: ${firstError}` : ""}` +
              `${refused ? `; refused: ${refused}` : ""}); over ${wall.toFixed(1)} s:` +
              ` ${(frames / wall).toFixed(0)} frames/s delivered (${perSub.toFixed(1)} per` +
              ` subscriber, ${(bytes / frames || 0).toFixed(0)} bytes each, ${gaps} skipped by seq)`);
  console.log(`fan-out: delivery after the first subscriber got the frame: p50` +
              ` ${pct(delays, 50).toFixed(2)} ms, p99 ${pct(delays, 99).toFixed(2)} ms,` +
              ` max ${(delays[delays.length - 1] ?? NaN).toFixed(2)} ms; server RSS` +
              ` ${rssDuring[rssDuring.length - 1]} MB; CPU: server ${sCpu.toFixed(0)} %,` +
              ` this client ${cCpu.toFixed(0)} % (of one core)`);
}

if (held > 0) await heldConnections();
if (subscribers > 0 && opt.token) await fanOut();
process.exit(0);
