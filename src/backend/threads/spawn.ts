// Starting a worker thread from a script held in memory, in every runtime: a module Web
// Worker from a blob URL where the global `Worker` exists (browsers, Deno, Bun), else Node's
// worker_threads (Node 20 has no global Worker). The Node modules are imported dynamically,
// only on that path, so the library still loads where they do not exist.

export interface WorkerHandle {
  post(message: unknown): void;
  terminate(): void;
  /**
   * False where a running worker keeps the process alive (Deno has no unref for workers; a
   * browser page never exits): the pool then stops its workers once idle.
   */
  unreferenced: boolean;
}

interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  onerror: ((event: { message?: string; preventDefault?(): void }) => void) | null;
  unref?(): void;
}

/**
 * Starts a worker running `source`; `onError` receives an error the worker could not report
 * itself (a script that failed to load). The worker never keeps the process alive.
 */
export async function spawnWorker(source: string, onError: (message: string) => void): Promise<WorkerHandle> {
  const WebWorkerClass = (globalThis as { Worker?: new (url: string, options: { type: "module" }) => WebWorker }).Worker;
  if (typeof WebWorkerClass === "function") {
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    const worker = new WebWorkerClass(url, { type: "module" });
    worker.onerror = (event) => {
      event.preventDefault?.();
      onError(event.message ?? "the worker script failed to load");
    };
    worker.unref?.(); // Bun: do not keep the process alive
    return {
      unreferenced: typeof worker.unref === "function",
      post: (message) => worker.postMessage(message),
      terminate: () => {
        worker.terminate();
        URL.revokeObjectURL(url);
      },
    };
  }
  const { Worker: NodeWorker } = await import("node:worker_threads");
  // A plain script: none of the parent's flags (--import loaders, --input-type) applies to it.
  const worker = new NodeWorker(source, { eval: true, execArgv: [] });
  worker.on("error", (error: Error) => onError(`${error.name}: ${error.message}`));
  worker.unref();
  return { unreferenced: true, post: (message) => worker.postMessage(message), terminate: () => void worker.terminate() };
}

/** Hardware threads of this machine: navigator.hardwareConcurrency, or Node's os.availableParallelism(). */
export async function hardwareThreads(): Promise<number> {
  const reported = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  if (typeof reported === "number" && reported >= 1) return reported;
  try {
    const os = await import("node:os");
    return Math.max(1, typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length);
  } catch {
    return 1;
  }
}

/** True where this thread may block in Atomics.wait (not on a browser page's main thread). */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Calls `fn` after `ms` without keeping the process alive for it (Node and Bun: unref; Deno:
 * Deno.unrefTimer; browsers have nothing to keep alive).
 */
export function unreferencedTimeout(fn: () => void, ms: number): void {
  const timer: unknown = setTimeout(fn, ms);
  if (typeof timer === "object" && timer !== null && typeof (timer as { unref?: unknown }).unref === "function") {
    (timer as { unref(): void }).unref();
  } else {
    (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(timer as number);
  }
}
