// `pcgraph train --algo eqprop|chl`: a layered energy-based network trained from the command
// line, its checkpoint (settings and run record), curves and history, resumption by the run
// rules of every train run, `pcgraph eval` of its checkpoint, and usage errors.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runCli } from "../../src/cli/main.js";
import { decodePCGraphCheckpoint } from "../../src/train/checkpoint.js";

const test = suite("cli: energy-based training");

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(root, "bin", "pcgraph.js");
const temp = mkdtempSync(join(tmpdir(), "pcgraph-ebm-cli-"));

function pcgraph(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: temp, encoding: "utf8", timeout: 120_000, env: (({ FORCE_COLOR, ...rest }) => ({ ...rest, NO_COLOR: "1" }))(process.env) });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("train --help lists the energy-based flags", () => {
  const { code, stdout } = pcgraph("train", "--help");
  assert.is(code, 0);
  for (const flag of ["eqprop", "chl", "--hidden", "--beta", "--nudging", "--clamp", "--steps", "--second-steps", "--gamma", "--activation", "--feedback-gain"]) assert.match(stdout, flag);
});

test("train --algo eqprop: checkpoint with its settings and run record, curves.svg and history.json; resume, extend, refuse changes; eval reads it", () => {
  const out = join(temp, "eqprop");
  const small = ["--hidden", "12", "--augment", "false", "--test-fraction", "0.9", "--batch-size", "50", "--steps", "10", "--second-steps", "5"];
  const run = pcgraph("train", "--algo", "eqprop", "--epochs", "1", "--beta", "1", "--out", out, "--seed", "2", ...small);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /test accuracy: \d+\.\d+%/);
  assert.match(run.stdout, `training curves: ${join(out, "curves.svg")}`);
  assert.match(run.stderr, "layered network 784-12-10");
  assert.match(run.stderr, "EqProp symmetric beta 1");
  assert.match(run.stderr, /EqProp epoch 1 .*train loss \d+\.\d+ .*test acc \d+\.\d+%/);
  const checkpoint = join(out, "checkpoint.ckpt");
  const decoded = decodePCGraphCheckpoint(new Uint8Array(readFileSync(checkpoint)));
  const progress = decoded.progress as { algorithm: string; energyBased: { beta: number; hidden: number[]; steps: number }; run: { model: string; data: { source: string }; testFraction: number } };
  decoded.model.dispose();
  assert.is(progress.algorithm, "eqprop");
  assert.equal([progress.energyBased.beta, progress.energyBased.hidden, progress.energyBased.steps], [1, [12], 10]);
  assert.equal([progress.run.model, progress.run.data.source, progress.run.testFraction], ["layered:784-12-10", "mnist", 0.9]);
  const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
  assert.is(history.epochs.length, 1);
  assert.ok(history.epochs[0].trainLoss > 0, "the epoch records the cost at the free fixed points");
  const curves = readFileSync(join(out, "curves.svg"), "utf8");
  assert.match(curves, /<svg[\s\S]*Test accuracy/);
  assert.match(curves, "EqProp symmetric beta 1");
  // eval: the same queries as the run's test evaluation, so the same accuracy
  const trained = /test accuracy: (\d+\.\d+%)/.exec(run.stdout)![1];
  const evaluated = pcgraph("eval", checkpoint);
  assert.is(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stdout, `accuracy: ${trained}`);
  assert.match(evaluated.stdout, /loss \(1\/2 \|output - one-hot\|\^2\): \d+\.\d+/);
  assert.match(evaluated.stdout, "evaluated on test (9000 samples)");
  assert.match(pcgraph("eval", checkpoint, "--split", "train").stdout, "evaluated on train (1000 samples)");
  // resuming refuses a change of its settings, and finishes or extends the run
  const changed = pcgraph("train", "--resume", checkpoint, "--epochs", "2", "--beta", "0.5");
  assert.is(changed.code, 2);
  assert.match(changed.stderr, "--beta 0.5 differs from the resumed run's 1");
  assert.match(pcgraph("train", "--resume", checkpoint, "--epochs", "2", "--algo", "chl").stderr, '--algo chl differs from the resumed run\'s "eqprop"');
  assert.match(pcgraph("train", "--resume", checkpoint).stderr, "the run already completed 1 epochs");
  const resumed = pcgraph("train", "--resume", checkpoint, "--epochs", "2");
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, "the cosine schedule is stretched from 20 to 40 steps");
  assert.match(resumed.stderr, "EqProp epoch 2");
  assert.is(JSON.parse(readFileSync(join(out, "history.json"), "utf8")).epochs.length, 2);
  // the PC-graph commands send energy-based checkpoints to train and eval
  assert.match(pcgraph("graph", "query", checkpoint).stderr, `evaluate it with pcgraph eval ${checkpoint}`);
  assert.match(pcgraph("graph", "train", "--resume", checkpoint).stderr, `continue it with pcgraph train --resume ${checkpoint}`);
  assert.is(pcgraph("graph", "train", "--algo", "eqprop").code, 2);
});

test("train --algo chl trains with the full clamp into runs/ebm-<hidden>-chl-seed<seed>, never over another run", () => {
  const run = pcgraph("train", "--algo", "chl", "--epochs", "1", "--hidden", "8", "--augment", "false", "--test-fraction", "0.9", "--steps", "8", "--second-steps", "4");
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, "CHL full clamp");
  assert.ok(existsSync(join(temp, "runs", "ebm-8-chl-seed1", "checkpoint.ckpt")));
  assert.ok(existsSync(join(temp, "runs", "ebm-8-chl-seed1", "curves.svg")));
  const other = pcgraph("train", "--algo", "chl", "--epochs", "1", "--hidden", "6", "--augment", "false", "--test-fraction", "0.9", "--out", join(temp, "runs", "ebm-8-chl-seed1"));
  assert.is(other.code, 2);
  assert.match(other.stderr, "already holds a chl run of layered:784-8-10");
});

test("train --algo chl --clamp nudged --feedback-gain: the weak-feedback network is stored with its gain, and eval relaxes it with that gain", () => {
  const out = join(temp, "weak");
  const run = pcgraph("train", "--algo", "chl", "--clamp", "nudged", "--beta", "0.5", "--feedback-gain", "0.1", "--epochs", "1", "--hidden", "8",
    "--augment", "false", "--test-fraction", "0.9", "--steps", "8", "--second-steps", "4", "--out", out);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, "CHL nudged clamp beta 0.5, feedback gain 0.1");
  const decoded = decodePCGraphCheckpoint(new Uint8Array(readFileSync(join(out, "checkpoint.ckpt"))));
  decoded.model.dispose();
  assert.is((decoded.progress as { energyBased: { feedbackGain: number } }).energyBased.feedbackGain, 0.1);
  const evaluated = pcgraph("eval", join(out, "checkpoint.ckpt"));
  assert.is(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stdout, "feedback gain 0.1");
  assert.match(evaluated.stdout, `accuracy: ${/test accuracy: (\d+\.\d+%)/.exec(run.stdout)![1]}`, "the same free fixed points as the run's test evaluation");
  assert.match(pcgraph("train", "--resume", join(out, "checkpoint.ckpt"), "--epochs", "2", "--feedback-gain", "1").stderr, "--feedback-gain 1 differs from the resumed run's 0.1");
});

test("energy-based flags are usage errors with other algorithms or the wrong rule", async () => {
  for (const [args, message] of [
    [["--algo", "zil", "--beta", "0.5"], "--beta applies to --algo eqprop or chl, not zil"],
    [["--algo", "eqprop", "--clamp", "full"], "--clamp applies to --algo chl"],
    [["--algo", "chl", "--nudging", "symmetric"], "--nudging applies to --algo eqprop"],
    [["--algo", "chl", "--beta", "0.5"], "--beta applies to CHL with --clamp nudged"],
    [["--algo", "eqprop", "--beta", "0"], "--beta: expected a number > 0"],
    [["--algo", "eqprop", "--model", "cnn"], "--model applies to bp, zil, il and fpa"],
    [["--algo", "eqprop", "--hidden", "12,x"], "--hidden: expected sizes"],
    [["--algo", "chl", "--clamp", "nudged", "--beta", "2"], "beta must be in (0, 1]"],
    [["--algo", "eqprop", "--feedback-gain", "0"], "--feedback-gain: expected a number > 0"],
    [["--algo", "zil", "--feedback-gain", "0.1"], "--feedback-gain applies to --algo eqprop or chl, not zil"],
  ] as const) {
    const errors: string[] = [];
    const code = await runCli(["train", ...args], () => {}, (line) => errors.push(line));
    assert.is(code, 2, `${args.join(" ")}: ${errors.join("\n")}`);
    assert.match(errors.join("\n"), message);
  }
});

process.on("exit", () => rmSync(temp, { recursive: true, force: true }));

test.run();
