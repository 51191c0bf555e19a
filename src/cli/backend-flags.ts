// The --backend and --threads flags every computing command shares, and the backend they choose.
import { backendNames, defaultBackendName, ready, type BackendName } from "../backend/load.js";
import { UsageError, type FlagSpec } from "./args.js";

export { describeBackend } from "../backend/load.js";

/** The --backend and --threads flags, shared by every command that computes. */
export const backendFlags: FlagSpec[] = [
  { name: "backend", type: "string", values: backendNames, help: "Numeric backend", defaultText: "wasm-simd-threads where shared memory exists, else wasm-simd" },
  { name: "threads", type: "string", meta: "N|auto", help: "Threads of the wasm-simd-threads backend, the main thread included (1: one thread)", defaultText: "auto (the machine's hardware threads)" },
];

/** The --threads value: "auto" or an integer from 1 to 32. */
export function parseThreads(value: string | number | boolean | undefined): number | "auto" | undefined {
  if (value === undefined) return undefined;
  if (value === "auto") return "auto";
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1 || threads > 32)
    throw new UsageError(`--threads: expected an integer from 1 to 32 or "auto", got ${JSON.stringify(value)}`);
  return threads;
}

/**
 * The backend a command computes on, from --backend and --threads, with its workers started.
 * --threads applies to the threaded backend only.
 */
export async function chooseBackend(flags: Record<string, string | number | boolean>): Promise<BackendName> {
  const name = (flags.backend as BackendName | undefined) ?? defaultBackendName();
  const threads = parseThreads(flags.threads);
  if (threads !== undefined && name !== "wasm-simd-threads")
    throw new UsageError(`--threads applies to the wasm-simd-threads backend, not ${name}`);
  await ready(name, threads === undefined ? undefined : { threads });
  return name;
}
