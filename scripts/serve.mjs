#!/usr/bin/env node
// A small static file server (node:http) for the demo page: `node scripts/serve.mjs [DIR]
// [--port N] [--host H] [--no-isolation]` serves DIR (default build/demo) on
// http://127.0.0.1:8080/. --port 0 picks a free port. Also importable: serve(dir, { port, host,
// isolation }).
// Pages are served cross-origin isolated (COOP same-origin, COEP require-corp), which is what
// lets a browser share wasm memory between threads; --no-isolation leaves the headers out, and
// the demo then runs on one thread.
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const mimeTypes = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
  ".bin": "application/octet-stream",
};

/** Serves the files under `dir`; resolves to { server, url, close() } once listening. */
export function serve(dir, { port = 8080, host = "127.0.0.1", isolation = true } = {}) {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    } catch {
      res.writeHead(400).end("bad request");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (pathname.endsWith("/")) pathname += "index.html";
    const file = normalize(join(root, pathname));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end("forbidden");
      return;
    }
    let stat;
    try {
      stat = statSync(file);
    } catch {
      stat = null;
    }
    if ((!stat || !stat.isFile()) && pathname === "/favicon.ico") {
      res.writeHead(204).end(); // browsers ask for it on their own
      return;
    }
    if (!stat || !stat.isFile()) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end(`not found: ${pathname}\n`);
      return;
    }
    res.writeHead(200, {
      "content-type": mimeTypes[extname(file).toLowerCase()] ?? "application/octet-stream",
      "content-length": stat.size,
      "cache-control": "no-cache",
      ...(isolation ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {}),
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      const url = `http://${host}:${address.port}/`;
      resolvePromise({ server, url, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

function parseArgs(argv) {
  const options = { dir: "build/demo", port: 8080, host: "127.0.0.1", isolation: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === "--port") options.port = Number(value());
    else if (flag === "--host") options.host = value();
    else if (flag === "--no-isolation") options.isolation = false;
    else if (flag === "--help" || flag === "-h") {
      console.log("usage: node scripts/serve.mjs [DIR] [--port N] [--host H] [--no-isolation]   (default build/demo, 8080, 127.0.0.1, cross-origin isolated)");
      process.exit(0);
    } else if (!flag.startsWith("--")) options.dir = flag;
    else throw new Error(`unknown option ${arg}`);
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new Error(`--port: expected 0..65535`);
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = parseArgs(process.argv.slice(2));
  const { url } = await serve(options.dir, options);
  console.log(`serving ${options.dir} on ${url}${options.isolation ? " cross-origin isolated (threads available)" : ""}  (Ctrl+C to stop)`);
}
