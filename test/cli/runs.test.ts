// Runs of the command line: resuming continues the run it was given (its folder, model,
// data and options; conflicting flags are refused; more epochs stretch the schedule instead
// of training at learning rate 0), runs never overwrite one another, failed runs leave no
// folder, and the small things: no test set, eval of a CSV without the top class,
// --no-augment, --version, a closed pipe, one accuracy line per run.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runCli } from "../../src/cli/main.js";
import { loadCheckpoint } from "../../src/node/checkpoint-files.js";
import { removeStaleTemporaries, saveModel, writeFileAtomic } from "../../src/node/files.js";

const test = suite("cli runs");
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const temp = mkdtempSync(join(tmpdir(), "pcgraph-runs-"));

/** Runs the CLI in this process from `temp`, capturing stdout, stderr and progress. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const write = process.stderr.write;
  const cwd = process.cwd();
  process.chdir(temp);
  process.stderr.write = ((chunk: string | Uint8Array) => void stderr.push(String(chunk))) as typeof process.stderr.write;
  try {
    const code = await runCli(args, (line) => void stdout.push(line), (line) => void stderr.push(`${line}\n`));
    return { code, stdout: stdout.join("\n"), stderr: stderr.join("") };
  } finally {
    process.stderr.write = write;
    process.chdir(cwd);
  }
}

/** n samples of `features` columns in 3 separable classes, label last; `shift` moves every value. */
function writeCsv(name: string, n: number, features: number, shift = 0, labels = 3): string {
  let state = 99 + shift * 7;
  const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const lines = [];
  for (let i = 0; i < n; i++) {
    const label = i % labels;
    const row = Array.from({ length: features }, (_, j) => ((j % 3 === label ? 1.5 : 0) + random() - 0.5 + shift).toFixed(3));
    lines.push([...row, label].join(","));
  }
  const path = join(temp, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

const blobs = writeCsv("blobs.csv", 96, 4);
const other = writeCsv("other.csv", 96, 4, 0.25);
const images = writeCsv("images.csv", 60, 100); // 10x10 samples, for the CNN
const twoClasses = writeCsv("two-classes.csv", 30, 4, 0, 2);

const fast = ["--batch-size", "16", "--optimizer", "sgd", "--lr", "0.1"];

function progressOf(checkpointPath: string): Record<string, any> {
  const c = loadCheckpoint(checkpointPath);
  c.graph.dispose();
  return c.progress;
}

function weightsOf(checkpointPath: string): number[] {
  const c = loadCheckpoint(checkpointPath);
  const w = [...c.graph.getWeights().values()].flatMap((v) => [...v]);
  c.graph.dispose();
  return w;
}

test("resuming a finished run to more epochs stretches the cosine schedule: the new epochs train at a rate above 0", async () => {
  const out = join(temp, "stretch");
  assert.is((await cli("train", "--data", blobs, "--epochs", "2", "--out", out, ...fast)).code, 0);
  const checkpoint = join(out, "checkpoint.ckpt");
  const before = weightsOf(checkpoint);
  const resumed = await cli("train", "--resume", checkpoint, "--epochs", "4");
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, "the cosine schedule is stretched from 10 to 20 steps (4 epochs)");
  const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
  assert.is(history.epochs.length, 4);
  for (const epoch of history.epochs.slice(2)) assert.ok(epoch.learningRate > 0, `epoch ${epoch.epoch} at ${epoch.learningRate}`);
  const after = weightsOf(checkpoint);
  assert.ok(after.some((w, i) => w !== before[i]), "the new epochs change the weights");
  const again = await cli("train", "--resume", checkpoint, "--epochs", "4");
  assert.is(again.code, 2);
  assert.match(again.stderr, "already completed 4 epochs; pass --epochs N with N above 4");
  const zero = await cli("train", "--data", blobs, "--lr", "0", "--out", join(temp, "zero"));
  assert.is(zero.code, 2);
  assert.match(zero.stderr, "--lr: expected a number above 0");
});

test("resume takes the folder, model and data from the checkpoint and refuses flags that contradict it", async () => {
  const mlpRun = await cli("train", "--data", images, "--epochs", "1", ...fast);
  const cnnRun = await cli("train", "--data", images, "--model", "cnn", "--epochs", "1", ...fast);
  assert.is(mlpRun.code, 0, mlpRun.stderr);
  assert.is(cnnRun.code, 0, cnnRun.stderr);
  const mlpCheckpoint = join(temp, "runs", "mlp-images-zil-seed1", "checkpoint.ckpt");
  const cnnCheckpoint = join(temp, "runs", "cnn-images-zil-seed1", "checkpoint.ckpt");
  const mlpBytes = readFileSync(mlpCheckpoint);
  const run = progressOf(cnnCheckpoint).run;
  assert.equal({ ...run, data: { source: run.data.source } }, { model: "cnn", data: { source: images }, augment: false, testFraction: 0.2, epochs: 1 });
  assert.match(run.data.fingerprint, /^[0-9a-f]{16}$/);

  // No --model, --data or --out: all from the checkpoint; the MLP run stays as it was.
  const resumed = await cli("train", "--resume", join("runs", "cnn-images-zil-seed1", "checkpoint.ckpt"), "--epochs", "2");
  assert.is(resumed.code, 0, resumed.stderr);
  assert.is(progressOf(cnnCheckpoint).epoch, 2);
  assert.equal(readFileSync(mlpCheckpoint), mlpBytes, "the MLP run's checkpoint is untouched");

  for (const [flags, message] of [
    [["--model", "mlp"], '--model mlp differs from the resumed run\'s "cnn"'],
    [["--data", other], "are not the ones the run was trained on"],
    [["--no-augment", "--augment"], "--augment given twice"],
    [["--augment"], "--augment true differs"],
    [["--test-fraction", "0.3"], "--test-fraction 0.3 differs"],
    [["--seed", "5"], "--seed 5 differs"],
    [["--algo", "bp"], "--algo bp differs"],
    [["--lr", "0.5"], "cannot change a resumed run"],
  ] as const) {
    const refused = await cli("train", "--resume", cnnCheckpoint, "--epochs", "3", ...flags);
    assert.is(refused.code, 2, `${flags.join(" ")}: ${refused.stderr}`);
    assert.match(refused.stderr, message);
  }
  assert.is(progressOf(cnnCheckpoint).epoch, 2, "refused resumes wrote nothing");
});

test("a second train on other data goes to its own folder and never over another run's checkpoint", async () => {
  const first = await cli("train", "--data", blobs, "--epochs", "1", ...fast);
  assert.is(first.code, 0, first.stderr);
  const firstCheckpoint = join(temp, "runs", "mlp-blobs-zil-seed1", "checkpoint.ckpt");
  const bytes = readFileSync(firstCheckpoint);
  const second = await cli("train", "--data", other, "--epochs", "1", ...fast);
  assert.is(second.code, 0, second.stderr);
  assert.ok(existsSync(join(temp, "runs", "mlp-other-zil-seed1", "checkpoint.ckpt")));
  const clash = await cli("train", "--data", other, "--epochs", "1", "--out", join("runs", "mlp-blobs-zil-seed1"), ...fast);
  assert.is(clash.code, 2);
  assert.match(clash.stderr, "already holds a zil run of mlp on");
  assert.match(clash.stderr, "blobs.csv");
  assert.equal(readFileSync(firstCheckpoint), bytes, "the first run's checkpoint is untouched");
  const rerun = await cli("train", "--data", blobs, "--epochs", "1", ...fast);
  assert.is(rerun.code, 0, "the same run trained again may replace its own folder");
});

test("--test-fraction 0: train says there is no test set, eval refuses the test split and evaluates --split train", async () => {
  const out = join(temp, "no-test");
  const train = await cli("train", "--data", blobs, "--epochs", "1", "--test-fraction", "0", "--out", out, ...fast);
  assert.is(train.code, 0, train.stderr);
  assert.not.match(train.stdout + train.stderr, "NaN");
  assert.match(train.stdout, "no test set (--test-fraction 0); final training loss: ");
  const checkpoint = join(out, "checkpoint.ckpt");
  const evalTest = await cli("eval", checkpoint);
  assert.is(evalTest.code, 2);
  assert.match(evalTest.stderr, "no test set");
  assert.not.match(evalTest.stdout, "NaN");
  const evalTrain = await cli("eval", checkpoint, "--split", "train");
  assert.is(evalTrain.code, 0, evalTrain.stderr);
  assert.match(evalTrain.stdout, /accuracy: \d+\.\d+%/);
});

test("eval reads the run's data from the checkpoint and accepts a CSV lacking the top class", async () => {
  const out = join(temp, "eval-run");
  assert.is((await cli("train", "--data", blobs, "--epochs", "1", "--out", out, ...fast)).code, 0);
  const own = await cli("eval", join(out, "checkpoint.ckpt"));
  assert.is(own.code, 0, own.stderr);
  assert.match(own.stdout, blobs);
  const fewer = await cli("eval", join(out, "checkpoint.ckpt"), "--data", twoClasses, "--split", "all");
  assert.is(fewer.code, 0, fewer.stderr);
  assert.match(fewer.stdout, "(30 samples)");
});

test("a run that fails leaves no folder behind; a value beyond float32 is named by file:line:col", async () => {
  const out = join(temp, "failing", "run");
  const overflow = await cli("train", "--data", blobs, "--epochs", "1", "--optimizer", "sgd", "--lr", "1e39", "--out", out);
  assert.is(overflow.code, 1);
  assert.match(overflow.stderr, /non-finite|the loss became NaN/);
  assert.not.ok(existsSync(join(temp, "failing")), "no empty folders");
  const start = await cli("start", "--data", blobs, "--epochs", "1", "--optimizer", "sgd", "--lr", "1e39", "--out", out);
  assert.is(start.code, 1);
  assert.not.ok(existsSync(join(temp, "failing")), "start leaves none either");
  const huge = join(temp, "huge.csv");
  writeFileSync(huge, "1,2,0\n3,1e39,1\n");
  const bad = await cli("train", "--data", huge, "--out", join(temp, "huge-run"));
  assert.is(bad.code, 1);
  assert.match(bad.stderr, `${huge}:2:2: 1e39 is not finite in float32`);
  assert.not.ok(existsSync(join(temp, "huge-run")));
});

test("a temporary file left by a killed writer is removed on the next write; one of a live writer stays", async () => {
  const dir = join(temp, "temporaries");
  mkdirSync(dir);
  const target = join(dir, "checkpoint.ckpt");
  const dead = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ["-e", ""]);
    child.on("exit", () => resolve(child.pid!));
  });
  writeFileSync(join(dir, `.checkpoint.ckpt.${dead}.lx1.0.tmp`), new Uint8Array(1000));
  writeFileSync(join(dir, `.checkpoint.ckpt.${process.ppid}.lx2.0.tmp`), "a live writer's");
  writeFileSync(join(dir, ".other.ckpt.1.x.0.tmp"), "another file's");
  writeFileAtomic(target, "new");
  assert.equal(readdirSync(dir).sort(), [`.checkpoint.ckpt.${process.ppid}.lx2.0.tmp`, ".other.ckpt.1.x.0.tmp", "checkpoint.ckpt"].sort());
  assert.equal(removeStaleTemporaries(target), []);
});

test("--no-augment turns augmentation off, --no- of a valued flag is refused, --version prints the version", async () => {
  const digits = writeCsv("digits.csv", 40, 784);
  const plain = await cli("train", "--data", digits, "--epochs", "1", "--no-augment", "--out", join(temp, "no-aug"), ...fast);
  assert.is(plain.code, 0, plain.stderr);
  assert.not.match(plain.stderr, "shifted copies");
  assert.is(progressOf(join(temp, "no-aug", "checkpoint.ckpt")).run.augment, false);
  const shifted = await cli("train", "--data", digits, "--epochs", "1", "--out", join(temp, "aug"), ...fast);
  assert.match(shifted.stderr, "shifted copies");
  const bad = await cli("train", "--no-epochs");
  assert.is(bad.code, 2);
  assert.match(bad.stderr, "--epochs is not an on/off flag");
  const version = await cli("--version");
  assert.is(version.code, 0);
  assert.is(version.stdout, `pcgraph ${JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version}`);
});

test("start prints each run's accuracy once", async () => {
  const start = await cli("start", "--data", blobs, "--epochs", "1", "--f64-steps", "1", "--out", join(temp, "start"), ...fast);
  assert.is(start.code, 0, start.stderr);
  assert.is(start.stdout.split("\n").filter((l) => /test accuracy/.test(l)).length, 2, start.stdout);
});

test("verify --model checks a checkpoint, a saved model and a graph spec, printing the divergence table", async () => {
  const out = join(temp, "verify-run");
  assert.is((await cli("train", "--data", blobs, "--epochs", "1", "--out", out, ...fast)).code, 0);
  const checkpoint = await cli("verify", "--model", join(out, "checkpoint.ckpt"), "--runs", "6", "--seed", "3");
  assert.is(checkpoint.code, 0, checkpoint.stderr);
  assert.match(checkpoint.stdout, "checked 6 cases (seed 3)");
  for (const row of ["| reference-f64 | softmaxCrossEntropy |", "| reference-f64 | mse |", "| wasm-simd | softmaxCrossEntropy |", "| wasm-simd | mse |"])
    assert.match(checkpoint.stdout, row);
  assert.match(checkpoint.stdout, "equal backprop's on this model in every case checked");
  const c = loadCheckpoint(join(out, "checkpoint.ckpt"));
  const saved = join(temp, "saved-model");
  saveModel(saved, c.graph);
  const spec = join(temp, "spec.json");
  writeFileSync(spec, JSON.stringify(c.graph.spec));
  c.graph.dispose();
  for (const model of [saved, join(saved, "model.json"), spec]) {
    const r = await cli("verify", "--model", model, "--runs", "3", "--max-batch", "4", "--perturbation", "0");
    assert.is(r.code, 0, `${model}: ${r.stderr}`);
    assert.match(r.stdout, "| within |");
  }
  const missing = await cli("verify", "--model", join(temp, "nothing.ckpt"));
  assert.is(missing.code, 2);
  assert.match(missing.stderr, "no such file");
  const stray = await cli("verify", "--max-batch", "3");
  assert.is(stray.code, 2);
  assert.match(stray.stderr, "apply to --model");
});

test("a reader that closes the pipe early gets no EPIPE stack trace, and the command exits 0", async () => {
  const child = spawn(process.execPath, [join(root, "bin", "pcgraph.js"), "info"], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.destroy();
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.not.match(stderr, "EPIPE");
  assert.is(code, 0, stderr);
});

// Removed when the process ends (no uvu hook: a throwing hook hides failures).
process.on("exit", () => rmSync(temp, { recursive: true, force: true }));

test.run();
