// One line about the machine a figure was measured on: CPU model, cores, memory and the load
// averages at the time (timings on a busy machine are noisy; say so beside them).
import { cpus, loadavg, totalmem } from "node:os";
import type { Backend } from "../backend/kernels.js";
import { describeBackend } from "../backend/load.js";

/**
 * One line about this machine (CPU, cores, memory, load) to print beside timings; with
 * `backend`, also the backend the timings ran on and its threads.
 */
export function hostLine(options: { backend?: Backend } = {}): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? "unknown CPU";
  const load = loadavg().map((l) => l.toFixed(2)).join(" / ");
  return `host: ${model}, ${list.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average (1 / 5 / 15 min) ${load}; Node ${process.version}${options.backend ? `; backend ${describeBackend(options.backend)}` : ""}`;
}
