// The thread pool as the operating system sees it (Node only): a process that used threads
// exits by itself, idle workers burn no CPU, and dispose gives the OS threads back.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createBackend } from "../../src/backend/load.js";
import type { ThreadedBackend } from "../../src/backend/threaded.js";
import { ThreadPool } from "../../src/backend/threads/pool.js";

const os = suite("threads in a Node process");
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Threads of this process, from /proc (Linux). */
function osThreads(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))![1]);
}

os("a process whose kernels used worker threads exits by itself, without dispose", () => {
  const script = `
    import { getBackendByName } from "./src/backend/load.js";
    const backend = getBackendByName("wasm-simd-threads", { threads: 2, parallelThreshold: 0 });
    backend.setCallerTakesBlocks(false);
    await backend.whenStarted();
    const x = backend.alloc(1 << 16);
    backend.fill(1 << 16, -1, x);
    backend.relu(1 << 16, x, x);
    console.log("blocks run by the worker:", backend.threadInfo().stats.blocksRun[1]);
  `;
  const started = Date.now();
  const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root, encoding: "utf8", timeout: 30_000 });
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /blocks run by the worker: [1-9]/);
  assert.ok(Date.now() - started < 20_000, "exited promptly");
});

os("idle workers sleep: no CPU is burnt between kernels once they have waited", async () => {
  const backend = createBackend("wasm-simd-threads", { threads: 2, parallelThreshold: 0 }) as ThreadedBackend;
  await backend.whenStarted();
  const n = 1 << 18;
  const x = backend.alloc(n);
  backend.fill(n, 0.5, x);
  backend.tanh(n, x, x);
  await sleep(50); // past the workers' polling window
  const before = process.cpuUsage();
  await sleep(400);
  const used = process.cpuUsage(before);
  const cpuMs = (used.user + used.system) / 1000;
  assert.ok(cpuMs < 60, `${cpuMs.toFixed(1)} ms of CPU in 400 ms idle`);
  backend.free(x);
  backend.dispose();
});

/** The thread count once it has not changed for 200 ms (workers of earlier tests may still be exiting). */
async function settledThreads(): Promise<number> {
  let count = osThreads();
  for (let stable = 0; stable < 10; ) {
    await sleep(20);
    const now = osThreads();
    stable = now === count ? stable + 1 : 0;
    count = now;
  }
  return count;
}

os("dispose gives the worker threads back to the OS", async () => {
  const baseline = await settledThreads();
  const backend = createBackend("wasm-simd-threads", { threads: 3 }) as ThreadedBackend;
  await backend.whenStarted();
  assert.ok(osThreads() >= baseline + 2, `threads with two workers: ${osThreads()} (baseline ${baseline})`);
  backend.dispose();
  for (let i = 0; i < 100 && osThreads() > baseline; i++) await sleep(20);
  assert.is(osThreads(), baseline, "threads after dispose");
});

os("a thread count set while idle workers are stopped (where they would keep the process alive) is the one that runs", async () => {
  // Deno's workers have no unref: the pool stops idle ones and starts them again on demand.
  // A web-style Worker without unref over worker_threads stands in for Deno's here.
  const { Worker: NodeWorker } = await import("node:worker_threads");
  const { threadWorkerSourceBase64 } = await import("../../src/backend/wasm-binaries.generated.js");
  const source = Buffer.from(threadWorkerSourceBase64, "base64").toString("utf8");
  class ReferencedWorker {
    onerror: ((event: { message?: string }) => void) | null = null;
    private readonly worker = new NodeWorker(source, { eval: true, execArgv: [] });
    constructor() {
      this.worker.on("error", (error: Error) => this.onerror?.({ message: error.message }));
    }
    postMessage(message: unknown): void {
      this.worker.postMessage(message);
    }
    terminate(): void {
      void this.worker.terminate();
    }
  }
  const global = globalThis as { Worker?: unknown };
  const saved = global.Worker;
  global.Worker = ReferencedWorker;
  const backend = createBackend("wasm-simd-threads", { threads: 2, parallelThreshold: 0 }) as ThreadedBackend;
  try {
    await backend.whenStarted();
    assert.ok(backend.threadInfo().stats.stopsWhenIdle, "the stand-in keeps the process alive, so idle workers stop");
    await sleep(ThreadPool.IDLE_MS + 400);
    assert.ok(backend.threadInfo().stats.parked, "idle workers stopped");
    await backend.configure({ threads: 3 });
    const n = 1 << 12;
    const x = backend.alloc(n);
    backend.fill(n, 1, x);
    await backend.whenStarted();
    assert.equal([backend.threadInfo().stats.workers, backend.threadInfo().readyWorkers], [2, 2], "workers of three threads");
    backend.free(x);
  } finally {
    backend.dispose();
    global.Worker = saved;
  }
});

os("the embedded worker script is the current build of src/backend/threads", async () => {
  // The worker runs protocol.ts as built by scripts/build-wasm.mjs; a stale build would test old code.
  const { bundleWorker } = (await import(pathToFileURL(join(root, "scripts", "build-worker.mjs")).href)) as {
    bundleWorker(root: string): Promise<string>;
  };
  const { threadWorkerSourceBase64 } = await import("../../src/backend/wasm-binaries.generated.js");
  const embedded = Buffer.from(threadWorkerSourceBase64, "base64").toString("utf8");
  assert.ok(embedded === (await bundleWorker(root)), "src/backend/threads changed since the last build: run npm run build:wasm");
});

os.run();
