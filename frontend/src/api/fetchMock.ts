// For tests only: a fetch stand-in that answers by "METHOD /path" (query ignored unless the
// key has one) and records every request with its headers and JSON body.
import { vi } from "vitest";

export interface Call {
  method: string;
  path: string;
  auth: string | null;
  body: unknown;
}

export type Reply = { status?: number; body?: unknown } | ((c: Call) => { status?: number; body?: unknown });

export function mockFetch(routes: Record<string, Reply | Reply[]>) {
  const calls: Call[] = [];
  const queues = new Map<string, Reply[]>();
  for (const [k, v] of Object.entries(routes)) queues.set(k, Array.isArray(v) ? [...v] : [v]);
  const fn = vi.fn(async (url: string, init: RequestInit = {}) => {
    const method = (init.method ?? "GET").toUpperCase();
    const headers = (init.headers ?? {}) as Record<string, string>;
    const call: Call = {
      method,
      path: url,
      auth: headers.authorization ?? null,
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const q = queues.get(`${method} ${url}`) ?? queues.get(`${method} ${url.split("?")[0]}`);
    if (!q || q.length === 0) {
      return new Response(JSON.stringify({ error: "no such API route" }), { status: 404 });
    }
    const r = q.length > 1 ? q.shift()! : q[0];
    const { status = 200, body } = typeof r === "function" ? r(call) : r;
    const text = body === undefined ? null : JSON.stringify(body);
    return new Response(status === 204 ? null : text, {
      status,
      headers: { "content-type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fn);
  return { calls, fn };
}

export function session(token: string, refreshToken: string, name = "Ann Lee") {
  return {
    token,
    refreshToken,
    expiresIn: 900,
    user: { id: "u1", email: "ann@example.com", role: "user", subscriptionTier: "free", name,
            createdAt: 1 },
  };
}
