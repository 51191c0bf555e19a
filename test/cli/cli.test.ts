import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const test = suite("cli");

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(root, "bin", "pcgraph.js");
const temp = mkdtempSync(join(tmpdir(), "pcgraph-cli-"));

function pcgraph(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: temp, encoding: "utf8", timeout: 60_000, env: (({ FORCE_COLOR, ...rest }) => ({ ...rest, NO_COLOR: "1" }))(process.env) });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A small 3-class CSV: two informative features and one noise column, label last. */
function writeCsv(path: string): void {
  let state = 12345;
  const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const lines = ["x,y,noise,label"];
  for (let i = 0; i < 150; i++) {
    const label = i % 3;
    const cx = [2, -2, 0][label];
    const cy = [0, 1, -2][label];
    lines.push(`${(cx + random() - 0.5).toFixed(4)},${(cy + random() - 0.5).toFixed(4)},${random().toFixed(4)},${label}`);
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

const csv = join(temp, "blobs.csv");
writeCsv(csv);

const helpMentions: Record<string, string[]> = {
  train: ["--model", "--algo", "--data", "--epochs", "--batch-size", "--lr", "--optimizer", "--seed", "--out", "--resume"],
  eval: ["CHECKPOINT", "--data", "--split", "--batch-size"],
  info: ["--backend"],
  verify: ["--runs", "--seed"],
  start: ["--model", "--epochs", "--batch-size", "--lr", "--seed", "--out"],
  graph: ["train|query", "CHECKPOINT", "--topology", "--hidden", "--algo", "--task", "--region", "--steps", "--gamma", "--out"],
};

test("--help of every command exits 0 and lists its flags", () => {
  for (const [command, flags] of Object.entries(helpMentions)) {
    const { code, stdout } = pcgraph(command, "--help");
    assert.is(code, 0, command);
    assert.match(stdout, `pcgraph ${command}`);
    for (const flag of flags) assert.match(stdout, flag, `${command} --help mentions ${flag}`);
  }
  const general = pcgraph("--help");
  assert.is(general.code, 0);
  for (const command of Object.keys(helpMentions)) assert.match(general.stdout, command);
});

test("bad flags and values exit 2 with a message", () => {
  const unknown = pcgraph("train", "--bogus", "3");
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, "unknown flag --bogus");
  assert.match(unknown.stderr, "pcgraph train --help");
  const badValue = pcgraph("train", "--epochs", "two");
  assert.is(badValue.code, 2);
  assert.match(badValue.stderr, "--epochs");
  const badChoice = pcgraph("train", "--algo", "sgd");
  assert.is(badChoice.code, 2);
  assert.match(badChoice.stderr, "--algo");
  const missing = pcgraph("eval");
  assert.is(missing.code, 2);
  assert.match(missing.stderr, "CHECKPOINT");
  const command = pcgraph("fly");
  assert.is(command.code, 2);
  assert.match(command.stderr, "unknown command");
});

test("info reports the backend's threads; --threads is checked", () => {
  const two = pcgraph("info", "--threads", "2");
  assert.is(two.code, 0, two.stderr);
  assert.match(two.stdout, "backend: wasm-simd-threads");
  assert.match(two.stdout, "threads: 2 (the main thread and 1 worker started)");
  assert.match(two.stdout, "runtime supports shared-memory threads: yes");
  const one = pcgraph("info", "--backend", "wasm-simd");
  assert.match(one.stdout, "threads: 1");
  const wrong = pcgraph("info", "--backend", "wasm-simd", "--threads", "2");
  assert.is(wrong.code, 2);
  assert.match(wrong.stderr, "--threads applies to the wasm-simd-threads backend");
  const bad = pcgraph("train", "--threads", "0");
  assert.is(bad.code, 2);
  assert.match(bad.stderr, '--threads: expected an integer from 1 to 32 or "auto"');
});

test("a batch too large for wasm memory is a clear error naming the tensor and the limit", () => {
  const run = pcgraph("train", "--model", "cnn", "--batch-size", "100000", "--epochs", "1", "--out", join(temp, "huge"));
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, /error: tensor \[\d+(,\d+)*\]: wasm-simd-threads: cannot allocate \d+ floats \([\d.]+ [MG]iB\): /);
  assert.match(run.stderr, /(wasm memory is limited to 4\.00 GiB|one buffer is limited to 1\.00 GiB)/);
  assert.match(run.stderr, "try a smaller --batch-size");
  assert.not.match(run.stderr, "unreachable");
});

test("info reports the backend", () => {
  const { code, stdout } = pcgraph("info");
  assert.is(code, 0);
  assert.match(stdout, /backend: wasm-(simd|scalar)/);
  assert.match(stdout, "live tensors");
});

test("train on a CSV writes a checkpoint and an SVG; eval reads the checkpoint", () => {
  const out = join(temp, "run");
  const train = pcgraph("train", "--data", csv, "--epochs", "2", "--batch-size", "16", "--algo", "zil", "--out", out, "--seed", "3");
  assert.is(train.code, 0, train.stderr);
  assert.match(train.stdout, /test accuracy: \d+\.\d+%/);
  assert.match(train.stdout, join(out, "checkpoint.ckpt"));
  assert.match(train.stderr, "Z-IL epoch 2");
  const checkpoint = join(out, "checkpoint.ckpt");
  assert.ok(existsSync(checkpoint));
  const svg = readFileSync(join(out, "curves.svg"), "utf8");
  assert.match(svg, "<svg");
  assert.match(svg, ">Z-IL</text>");
  const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
  assert.is(history.epochs.length, 2);

  const evaluated = pcgraph("eval", checkpoint, "--data", csv);
  assert.is(evaluated.code, 0, evaluated.stderr);
  const accuracy = Number(/accuracy: ([\d.]+)%/.exec(evaluated.stdout)![1]);
  assert.is(accuracy.toFixed(2), (100 * history.epochs[1].testAccuracy).toFixed(2));
  assert.match(evaluated.stdout, /loss: \d/);

  // Resuming the finished 2-epoch run for one more epoch continues its history.
  const resumed = pcgraph("train", "--data", csv, "--epochs", "3", "--resume", checkpoint, "--out", out);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.is(JSON.parse(readFileSync(join(out, "history.json"), "utf8")).epochs.length, 3);
});

test("eval of a corrupt or missing checkpoint exits non-zero naming the file", () => {
  const corrupt = join(temp, "corrupt.ckpt");
  writeFileSync(corrupt, "PCGCKPT1 this is not a checkpoint");
  const bad = pcgraph("eval", corrupt, "--data", csv);
  assert.is.not(bad.code, 0);
  assert.match(bad.stderr, corrupt);
  const missing = pcgraph("eval", join(temp, "nothing.ckpt"), "--data", csv);
  assert.is.not(missing.code, 0);
  assert.match(missing.stderr, "nothing.ckpt");
});

test("graph train then graph query: checkpoint, energy SVG, PNG grids and metrics; flags of the other action refused", () => {
  const out = join(temp, "graph");
  const train = pcgraph("graph", "train", "--train-size", "400", "--epochs", "1", "--hidden", "16,8", "--out", out);
  assert.is(train.code, 0, train.stderr);
  assert.match(train.stdout, /test accuracy: \d+\.\d+%/);
  assert.match(train.stderr, "PC epoch 1");
  const checkpoint = join(out, "checkpoint.ckpt");
  assert.ok(existsSync(checkpoint));
  assert.match(readFileSync(join(out, "energy.svg"), "utf8"), /<svg[\s\S]*image \+ label clamped/);
  assert.match(readFileSync(join(out, "curves.svg"), "utf8"), /<svg[\s\S]*Test accuracy/, "the training curves the help promises");
  const classify = pcgraph("graph", "query", checkpoint, "--task", "classify", "--count", "50");
  assert.is(classify.code, 0, classify.stderr);
  assert.match(classify.stdout, /accuracy: \d+\.\d+% on 50 test samples/);
  const complete = pcgraph("graph", "query", checkpoint, "--task", "complete", "--count", "4", "--steps", "5");
  assert.is(complete.code, 0, complete.stderr);
  assert.match(complete.stdout, /completion MSE over the hidden pixels: \d/);
  const png = readFileSync(join(out, "complete.png"));
  assert.equal([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  assert.ok(existsSync(join(out, "complete-energy.svg")));
  const foreign = pcgraph("graph", "query", checkpoint, "--epochs", "3");
  assert.is(foreign.code, 2);
  assert.match(foreign.stderr, "--epochs applies to pcgraph graph train");
  const notPcGraph = pcgraph("graph", "query", join(temp, "run", "checkpoint.ckpt"));
  assert.is(notPcGraph.code, 1);
  assert.match(notPcGraph.stderr, "not a PC graph");
});

// Removed when the process ends (no uvu hook: a throwing hook hides failures).
process.on("exit", () => rmSync(temp, { recursive: true, force: true }));

test.run();
