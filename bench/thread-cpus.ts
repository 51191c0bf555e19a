// Which CPU each thread of this process last ran on, from /proc/self/task/*/stat (Linux only):
// for telling whether a benchmark's worker shared the calling thread's core.
import { existsSync, readdirSync, readFileSync } from "node:fs";

interface ThreadSample {
  /** The CPU the thread last ran on. */
  cpu: number;
  /** User + system CPU time so far, in clock ticks. */
  ticks: number;
}

/** Every thread of this process, by thread id; undefined where /proc is not available. */
export function threadSamples(): Map<string, ThreadSample> | undefined {
  if (!existsSync("/proc/self/task")) return undefined;
  const threads = new Map<string, ThreadSample>();
  for (const tid of readdirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended meanwhile
    }
    // Fields after the parenthesised name, from field 3 (state): utime is field 14, stime
    // 15 and processor 39 (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    threads.set(tid, { cpu: Number(fields[36]), ticks: Number(fields[11]) + Number(fields[12]) });
  }
  return threads;
}

/**
 * Whether the busiest thread since `start` other than the calling one (a benchmark's worker)
 * last ran on the calling thread's CPU; undefined where /proc is not available.
 */
export function workerSharesCallersCpu(start: Map<string, ThreadSample> | undefined): boolean | undefined {
  const now = threadSamples();
  if (!start || !now) return undefined;
  const self = now.get(String(process.pid));
  let busiest: ThreadSample | undefined;
  let most = -1;
  for (const [tid, sample] of now) {
    if (tid === String(process.pid)) continue;
    const ticks = sample.ticks - (start.get(tid)?.ticks ?? 0);
    if (ticks > most) [most, busiest] = [ticks, sample];
  }
  return self && busiest ? self.cpu === busiest.cpu : undefined;
}
