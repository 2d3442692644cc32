// The baseline of `make bench`'s server figures (tests/bench/server.sh): a minimal Node.js
// http server answering the same bytes as `sdsim serve` on the benchmarked routes, so that the
// figures compare the servers and not the work behind them. It does less than sdsim: the
// components body is a constant read from a file, and /api/projects checks the bearer token's
// HS256 signature and expiry (as sdsim does) but answers a constant instead of asking a store.
//   node node_server.mjs PORT COMPONENTS_JSON_FILE PROJECTS_JSON_FILE   (SDSIM_JWT_SECRET set)
import http from "node:http";
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

const [port, componentsFile, projectsFile] = process.argv.slice(2);
const secret = process.env.SDSIM_JWT_SECRET || "";
const components = readFileSync(componentsFile);
const projects = readFileSync(projectsFile);

function tokenOk(header) {
  const m = /^Bearer (.+)$/.exec(header || "");
  if (!m) return false;
  const parts = m[1].split(".");
  if (parts.length !== 3) return false;
  const mac = createHmac("sha256", secret).update(`${parts[0]}.${parts[1]}`).digest();
  const sig = Buffer.from(parts[2], "base64url");
  if (sig.length !== mac.length || !timingSafeEqual(sig, mac)) return false;
  const claims = JSON.parse(Buffer.from(parts[1], "base64url").toString());
  return typeof claims.exp === "number" && claims.exp * 1000 > Date.now();
}

function send(res, status, type, body) {
  res.writeHead(status, { "content-type": type, "content-length": body.length,
                          "cache-control": "no-store" });
  res.end(body);
}

http.createServer((req, res) => {
  if (req.url === "/healthz") return send(res, 200, "text/plain", Buffer.from("ok"));
  if (req.url === "/api/components") return send(res, 200, "application/json", components);
  if (req.url.startsWith("/api/projects")) {
    if (!tokenOk(req.headers.authorization)) {
      return send(res, 401, "application/json", Buffer.from('{"error":"invalid token"}'));
    }
    return send(res, 200, "application/json", projects);
  }
  send(res, 404, "application/json", Buffer.from('{"error":"not found"}'));
}).listen(Number(port), "127.0.0.1", () => console.log(`node baseline on ${port}`));
