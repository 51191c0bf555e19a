// `pcgraph predify train|eval` end to end on a small CSV task, its usage errors, and the
// schema file in docs/ matching the one the loader checks against.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { predifyConfigSchema } from "../../src/pc/predify-config.js";
import { readPredifyConfig } from "../../src/node/predify-config.js";
import { PredifyConfigError } from "../../src/pc/predify-config.js";

const test = suite("cli predify");

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(root, "bin", "pcgraph.js");
const temp = mkdtempSync(join(tmpdir(), "pcgraph-predify-"));

function pcgraph(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: temp, encoding: "utf8", timeout: 120_000, env: (({ FORCE_COLOR, ...rest }) => ({ ...rest, NO_COLOR: "1" }))(process.env) });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const csv = join(temp, "blobs.csv");
{
  let state = 99;
  const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const lines = ["a,b,c,d,label"];
  for (let i = 0; i < 120; i++) {
    const label = i % 3;
    lines.push([0, 1, 2, 3].map((j) => ((j === label ? 0.8 : 0.2) + 0.2 * random()).toFixed(3)).join(",") + `,${label}`);
  }
  writeFileSync(csv, lines.join("\n") + "\n");
}

test("the schema in docs/ is the one the loader checks against", () => {
  assert.equal(JSON.parse(readFileSync(join(root, "docs", "predify-config.schema.json"), "utf8")), predifyConfigSchema);
});

test("a config file's errors name the file and the field, or the line and column", () => {
  const bad = join(temp, "bad.json");
  writeFileSync(bad, JSON.stringify({ pcoders: [{ node: "relu1", target: "input", decoder: { kind: "dense", units: 3 } }] }));
  assert.throws(() => readPredifyConfig(bad), (e: unknown) => e instanceof PredifyConfigError && e.message.includes(bad) && e.field === "pcoders[0].decoder.units");
  writeFileSync(bad, '{\n  "beta": 0.8,\n  "pcoders": [\n}');
  assert.throws(() => readPredifyConfig(bad), (e: unknown) => e instanceof PredifyConfigError && new RegExp(`${bad}:4:1`).test((e as Error).message));
  assert.throws(() => readPredifyConfig(join(temp, "missing.json")), /missing\.json: cannot read/);
});

test("train a network, train its decoders, evaluate over time steps; resume continues", () => {
  const backbone = pcgraph("train", "--data", csv, "--model", "mlp", "--algo", "bp", "--epochs", "2", "--out", join(temp, "run"), "--seed", "2");
  assert.is(backbone.code, 0, backbone.stderr);
  const checkpoint = join(temp, "run", "checkpoint.ckpt");
  const config = join(temp, "config.json");
  writeFileSync(config, JSON.stringify({
    beta: 0.6, lambda: 0.3, alpha: 0.5, steps: 4,
    pcoders: [
      { node: "relu1", target: "input", decoder: { kind: "dense" } },
      { node: "relu2", target: "relu1", decoder: { kind: "dense", activation: "relu" } },
    ],
  }));
  const trained = pcgraph("predify", "train", "--backbone", checkpoint, "--config", config, "--data", csv, "--epochs", "2", "--batch-size", "16");
  assert.is(trained.code, 0, trained.stderr);
  const predified = join(temp, "run", "predify", "predify.ckpt");
  assert.match(trained.stdout, predified);
  assert.match(trained.stdout, /test reconstruction loss: \d+\.\d+/);
  assert.match(trained.stderr, "pcoder2: relu2 predicts relu1 (dense + relu)");
  assert.match(trained.stderr, "decoders epoch 2");
  assert.ok(existsSync(join(temp, "run", "predify", "curves.svg")));

  const evaluated = pcgraph("predify", "eval", predified, "--data", csv, "--noise", "none,gaussian:0.3,saltpepper:0.1", "--steps", "3");
  assert.is(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stdout, "| step | clean accuracy | energy | gaussian 0.3 accuracy | energy | salt & pepper 0.1 accuracy | energy |");
  const rows = evaluated.stdout.split("\n").filter((l) => /^\| (\d|0 \(feedforward\))/.test(l));
  assert.is(rows.length, 4, evaluated.stdout);
  assert.match(evaluated.stdout, "pcoder1 0.6 / 0.3 / 0.5");
  const plain = pcgraph("eval", checkpoint, "--data", csv);
  const accuracy = /accuracy: ([\d.]+)%/.exec(plain.stdout)![1];
  assert.match(rows[0], `| 0 (feedforward) | ${accuracy}%`, "step 0 is the network's own accuracy");

  const overridden = pcgraph("predify", "eval", predified, "--data", csv, "--noise", "none", "--steps", "1", "--beta", "1", "--lambda", "0", "--alpha", "0");
  assert.is(overridden.code, 0, overridden.stderr);
  const both = overridden.stdout.split("\n").filter((l) => /^\| \d/.test(l)).map((l) => l.split("|")[2]);
  assert.is(both[0], both[1], "beta 1, lambda 0, alpha 0: step 1 is the feedforward accuracy");

  const resumed = pcgraph("predify", "train", "--resume", predified, "--data", csv, "--epochs", "3");
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, "decoders epoch 3");
  assert.not.match(resumed.stderr, "decoders epoch 2");
});

test("usage errors exit 2 naming the problem; a bad config exits 1 naming the field", () => {
  const help = pcgraph("predify", "--help");
  assert.is(help.code, 0);
  for (const flag of ["ACTION", "--backbone", "--config", "--noise", "--steps", "--beta", "--lambda", "--alpha", "--resume"]) assert.match(help.stdout, flag);
  assert.match(pcgraph("--help").stdout, "predify");
  const action = pcgraph("predify", "fly");
  assert.is(action.code, 2);
  assert.match(action.stderr, "ACTION must be train or eval");
  const misplaced = pcgraph("predify", "eval", "x.ckpt", "--epochs", "2");
  assert.is(misplaced.code, 2);
  assert.match(misplaced.stderr, '--epochs is for "pcgraph predify train"');
  const noise = pcgraph("predify", "eval", "x.ckpt", "--noise", "gaussian");
  assert.is(noise.code, 2);
  assert.match(noise.stderr, "gaussian needs a level");
  const backbone = pcgraph("predify", "train");
  assert.is(backbone.code, 2);
  assert.match(backbone.stderr, "--backbone");
  const config = join(temp, "wrong.json");
  writeFileSync(config, JSON.stringify({ pcoders: [{ node: "nowhere", target: "input", decoder: { kind: "dense" } }] }));
  const wrong = pcgraph("predify", "train", "--backbone", join(temp, "run", "checkpoint.ckpt"), "--config", config, "--data", csv);
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, 'pcoders[0].node: the graph has no node "nowhere"');
});

// Removed when the process ends (no uvu hook: a throwing hook hides failures).
process.on("exit", () => rmSync(temp, { recursive: true, force: true }));

test.run();
