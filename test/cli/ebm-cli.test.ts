// `pcgraph train --algo eqprop|chl`: a layered energy-based network trained from the command
// line, its checkpoint and history, resumption with the stored settings, and usage errors.
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
  for (const flag of ["eqprop", "chl", "--hidden", "--beta", "--nudging", "--clamp", "--steps", "--second-steps", "--gamma", "--activation"]) assert.match(stdout, flag);
});

test("train --algo eqprop writes a checkpoint with its settings and history.json; --resume continues it", () => {
  const out = join(temp, "eqprop");
  const small = ["--hidden", "12", "--augment", "false", "--test-fraction", "0.9", "--batch-size", "50", "--steps", "10", "--second-steps", "5"];
  const run = pcgraph("train", "--algo", "eqprop", "--epochs", "1", "--beta", "1", "--out", out, "--seed", "2", ...small);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /test accuracy: \d+\.\d+%/);
  assert.match(run.stderr, "layered network 784-12-10");
  assert.match(run.stderr, "EqProp symmetric beta 1");
  assert.match(run.stderr, /EqProp epoch 1 .*test acc \d+\.\d+%/);
  const checkpoint = join(out, "checkpoint.ckpt");
  assert.ok(existsSync(checkpoint));
  const decoded = decodePCGraphCheckpoint(new Uint8Array(readFileSync(checkpoint)));
  const progress = decoded.progress as { algorithm: string; energyBased: { beta: number; hidden: number[]; steps: number } };
  assert.is(progress.algorithm, "eqprop");
  assert.equal([progress.energyBased.beta, progress.energyBased.hidden, progress.energyBased.steps], [1, [12], 10]);
  decoded.model.dispose();
  assert.is(JSON.parse(readFileSync(join(out, "history.json"), "utf8")).epochs.length, 1);
  const resumed = pcgraph("train", "--algo", "eqprop", "--epochs", "2", "--resume", checkpoint, "--out", out, "--augment", "false", "--test-fraction", "0.9");
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, "EqProp epoch 2");
  assert.is(JSON.parse(readFileSync(join(out, "history.json"), "utf8")).epochs.length, 2);
});

test("train --algo chl trains with the full clamp", () => {
  const run = pcgraph("train", "--algo", "chl", "--epochs", "1", "--hidden", "8", "--augment", "false", "--test-fraction", "0.9", "--steps", "8", "--second-steps", "4", "--out", join(temp, "chl"));
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, "CHL full clamp");
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
  ] as const) {
    const errors: string[] = [];
    const code = await runCli(["train", ...args], () => {}, (line) => errors.push(line));
    assert.is(code, 2, `${args.join(" ")}: ${errors.join("\n")}`);
    assert.match(errors.join("\n"), message);
  }
});

test.after(() => rmSync(temp, { recursive: true, force: true }));

test.run();
