// Training progress on stderr: a redrawn bar with rate, ETA, loss and accuracy on a
// terminal; one plain line per epoch otherwise (logs, pipes, CI).
import type { BatchInfo, EpochRecord } from "../train/fit.js";

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60 ? `${m}m${String(s).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

const percent = (x: number | undefined) => (x === undefined ? "--" : `${(100 * x).toFixed(2)}%`);

export class ProgressReporter {
  private readonly started = performance.now();
  private lastDraw = 0;
  private batchesDone = 0;
  private lastAccuracy: number | undefined;
  private drawn = false;
  /** Running mean of this epoch's batch losses. */
  private lossSum = 0;
  private lossCount = 0;

  /** `totalBatches`: batches still to run in this fit (for the ETA). */
  /** `metric`: what the batches report, "loss" (default) or e.g. "energy" for PC graphs. */
  constructor(private readonly stream: ProgressStream, private readonly label: string, private readonly totalBatches: number,
    private readonly metric = "loss") {}

  onBatch = (info: BatchInfo): void => {
    this.batchesDone++;
    this.lossSum += info.loss;
    this.lossCount++;
    if (!this.stream.isTTY) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && info.batch !== info.batches) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    const eta = (elapsed / this.batchesDone) * Math.max(this.totalBatches - this.batchesDone, 0);
    const width = 24;
    const filled = Math.round((width * info.batch) / info.batches);
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const line = `${this.label} epoch ${info.epoch}/${info.epochs} [${bar}] ${info.batch}/${info.batches} ` +
      `${Math.round(info.samplesPerSecond).toLocaleString("en-US")} samples/s ETA ${formatDuration(eta)} ` +
      `${this.metric} ${(this.lossSum / this.lossCount).toFixed(4)} test acc ${percent(this.lastAccuracy)}`;
    const columns = this.stream.columns ?? 120;
    this.stream.write(`\r${line.slice(0, columns - 1)}\x1b[K`);
    this.drawn = true;
  };

  onEpoch = (record: EpochRecord): void => {
    this.lossSum = 0;
    this.lossCount = 0;
    if (record.testAccuracy !== undefined) this.lastAccuracy = record.testAccuracy;
    else if (record.trainAccuracy !== undefined) this.lastAccuracy = record.trainAccuracy;
    const parts = [`${this.label} epoch ${record.epoch}`, `train ${this.metric} ${record.trainLoss.toFixed(4)}`];
    if (record.testLoss !== undefined) parts.push(`test loss ${record.testLoss.toFixed(4)}`);
    if (record.testAccuracy !== undefined) parts.push(`test acc ${percent(record.testAccuracy)}`);
    if (record.trainAccuracy !== undefined) parts.push(`train acc ${percent(record.trainAccuracy)}`);
    if (record.inference) {
      const { meanSteps, maxRelativeResidual, unconverged } = record.inference;
      parts.push(`inference ${meanSteps.toFixed(0)} steps/batch, residual <= ${maxRelativeResidual.toExponential(1)} of the initial` +
        (unconverged > 0 ? ` (${unconverged} batches stopped short of the tolerance)` : ""));
    }
    parts.push(`${record.seconds.toFixed(1)}s`);
    this.stream.write(`${this.stream.isTTY && this.drawn ? "\r\x1b[K" : ""}${parts.join("  ")}\n`);
    this.drawn = false;
  };
}
