// The Predify config as JSON: the schema check names the field at fault, syntax errors give
// the line and column, and a valid config comes back unchanged (as a copy).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkPredifyConfig, parsePredifyConfig, PredifyConfigError, predifyConfigSchema, type PredifyConfig } from "../../src/pc/predify-config.js";
import { checkAgainstSchema } from "../../src/json-schema.js";

const test = suite("predify config");

const valid: PredifyConfig = {
  beta: 0.8, lambda: 0.1, alpha: 0.01, steps: 10, seed: 3,
  pcoders: [
    { name: "low", node: "relu1", target: "input", decoder: { kind: "conv2dTranspose", kernelSize: 5, padding: [2, 2], useBias: false } },
    { node: "relu2", target: "relu1", beta: 0.6, lambda: 0.3, alpha: 0.5, decoder: { kind: "conv2dTranspose", kernelSize: [4, 4], strides: 2, activation: "relu" } },
    { node: "relu3", target: "relu2", decoder: { kind: "dense", activation: "leakyRelu" } },
  ],
};

test("a valid config parses from JSON to the same structure as the TypeScript object", () => {
  const parsed = parsePredifyConfig(JSON.stringify(valid, null, 2), "cfg.json");
  assert.equal(parsed, valid);
  const checked = checkPredifyConfig(valid);
  assert.equal(checked, valid);
  assert.ok(checked !== valid && checked.pcoders !== valid.pcoders, "a copy");
  assert.is(checkAgainstSchema(predifyConfigSchema, { $schema: "./predify-config.schema.json", ...valid }), null, "$schema is allowed");
});

test("a JSON syntax error names the file, line and column", () => {
  const text = '{\n  "pcoders": [\n    { "node": "a", }\n  ]\n}\n';
  try {
    parsePredifyConfig(text, "bad.json");
    assert.unreachable();
  } catch (error) {
    assert.instance(error, PredifyConfigError);
    assert.match((error as Error).message, /^predify config bad\.json:3:\d+: not valid JSON/);
  }
});

test("in JSON text, a field that breaks the schema is located by line and column", () => {
  const text = '{\n  "beta": 0.8,\n  "pcoders": [\n    { "node": "a", "target": "b",\n      "decoder": { "kind": "conv2dTranspose", "kernelSize": [3] } }\n  ]\n}';
  try {
    parsePredifyConfig(text, "cfg.json");
    assert.unreachable();
  } catch (error) {
    assert.instance(error, PredifyConfigError);
    assert.is((error as PredifyConfigError).field, "pcoders[0].decoder.kernelSize");
    assert.match((error as Error).message, /^predify config cfg\.json:5:61: pcoders\[0\]\.decoder\.kernelSize: must be an integer >= 1 or a pair/);
  }
});

test("schema violations are typed errors naming the field", () => {
  const cases: [unknown, string, RegExp][] = [
    [null, "", /must be an object, got null/],
    [[], "", /must be an object/],
    [{}, "pcoders", /is required/],
    [{ pcoders: "relu1" }, "pcoders", /must be an array/],
    [{ pcoders: [] }, "pcoders", /at least 1 item/],
    [{ pcoders: [{ node: "a", decoder: { kind: "dense" } }] }, "pcoders[0].target", /is required/],
    [{ pcoders: [{ node: "", target: "b", decoder: { kind: "dense" } }] }, "pcoders[0].node", /at least 1 character/],
    [{ pcoders: [{ node: "a", target: "b", decoder: { kind: "dense", kernelSize: 3 } }] }, "pcoders[0].decoder.kernelSize", /not a known field/],
    [{ pcoders: [{ node: "a", target: "b", decoder: { kind: "conv2dTranspose" } }] }, "pcoders[0].decoder.kernelSize", /is required/],
    [{ pcoders: [{ node: "a", target: "b", decoder: { kind: "conv2dTranspose", kernelSize: 0 } }] }, "pcoders[0].decoder.kernelSize", /integer >= 1 or a pair/],
    [{ pcoders: [{ node: "a", target: "b", decoder: { kind: "conv2dTranspose", kernelSize: 3, padding: [1, -1] } }] }, "pcoders[0].decoder.padding", /integer >= 0 or a pair/],
    [{ pcoders: [{ node: "a", target: "b", decoder: { kind: "conv2dTranspose", kernelSize: 3, strides: 1.5 } }] }, "pcoders[0].decoder.strides", /pair/],
    [{ pcoders: [{ node: "a", target: "b", decoder: { kind: "dense", activation: "swish" } }] }, "pcoders[0].decoder.activation", /one of "relu"/],
    [{ pcoders: [{ node: "a", target: "b", decoder: {} }] }, "pcoders[0].decoder.kind", /one of "conv2dTranspose", "dense", got nothing/],
    [{ pcoders: [{ node: "a", target: "b", decoder: "dense" }] }, "pcoders[0].decoder", /must be an object/],
    [{ beta: 1.2, pcoders: [{ node: "a", target: "b", decoder: { kind: "dense" } }] }, "beta", /<= 1/],
    [{ alpha: -1, pcoders: [{ node: "a", target: "b", decoder: { kind: "dense" } }] }, "alpha", />= 0/],
    [{ steps: 2.5, pcoders: [{ node: "a", target: "b", decoder: { kind: "dense" } }] }, "steps", /integer/],
    [{ lambda: 0.3, pcoders: [{ node: "a", target: "b", decoder: { kind: "dense" } }] }, "lambda", /beta \+ lambda = 1\.1 exceeds 1/],
    [{ pcoders: [{ node: "a", target: "b", lambda: 0.5, decoder: { kind: "dense" } }] }, "pcoders[0].lambda", /exceeds 1/],
    [{ pcoders: [{ node: "a", target: "a", decoder: { kind: "dense" } }] }, "pcoders[0].target", /its own node/],
  ];
  for (const [value, field, pattern] of cases) {
    try {
      checkPredifyConfig(value, "c.json");
      assert.unreachable(JSON.stringify(value));
    } catch (error) {
      if (!(error instanceof PredifyConfigError)) throw error;
      assert.is(error.field, field, `${JSON.stringify(value)}: ${error.message}`);
      assert.match(error.message, pattern);
      assert.ok(error.message.startsWith(`predify config c.json: ${field ? `${field}: ` : ""}`), error.message);
    }
  }
});

test.run();
