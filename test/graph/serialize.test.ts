import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShapeError } from "../../src/backend/errors.js";
import type { BackendName } from "../../src/backend/load.js";
import { GraphBuilder } from "../../src/graph/builder.js";
import { SerializationError } from "../../src/graph/errors.js";
import { predict } from "../../src/graph/forward.js";
import type { Graph } from "../../src/graph/graph.js";
import { modelFromJSON, modelToJSON, weightsToBytes, type ModelJSON } from "../../src/graph/serialize.js";
import { loadModel, saveModel } from "../../src/node/files.js";
import { memory, tensor } from "../../src/tensor.js";
import { randomArray, seed } from "../arbitraries.js";

const serialize = suite("model serialisation");

type Kind = "dense" | "conv" | "rnn";

/** A small graph of each family; every one shares weights between two nodes. */
export function smallGraph(kind: Kind, width: number, s: number, backend: BackendName): Graph {
  const g = new GraphBuilder();
  let out;
  if (kind === "dense") {
    const x = g.input([width]);
    const first = g.dense(x, width);
    const second = g.dense(g.relu(first), width, { shareWith: first });
    out = g.dense(g.tanh(second), 3);
  } else if (kind === "conv") {
    const x = g.input([2, width, width]);
    const first = g.conv2d(x, 2, 3, { padding: "same" });
    const second = g.conv2d(g.relu(first), 2, 3, { padding: "same", shareWith: first });
    out = g.dense(g.flatten(second), 3);
  } else {
    const x = g.input([3, width]);
    out = g.dense(g.rnn(x, 4, 3), 2);
  }
  return g.build({ output: out, loss: "mse", seed: s, backend });
}

function inputFor(graph: Graph, batch: number, s: number) {
  const shape = graph.inputs[0].shape;
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(randomArray(batch * size, s), [batch, ...shape], { backend: graph.backend });
}

function outputsOf(graph: Graph, s: number): number[] {
  const x = inputFor(graph, 2, s);
  const y = predict(graph, x);
  const values = Array.from(y.dataSync());
  x.dispose();
  y.dispose();
  return values;
}

const weightsOf = (graph: Graph) => [...graph.getWeights()].map(([name, values]) => [name, Array.from(values)]);

/** Serialises to JSON text and bytes, as if through files. */
function roundTrip(graph: Graph, backend: BackendName): Graph {
  const text = JSON.stringify(modelToJSON(graph));
  const bytes = weightsToBytes(graph).slice();
  return modelFromJSON(JSON.parse(text), bytes, { backend, source: "m.json" });
}

const graphCase = fc.record({
  kind: fc.constantFrom<Kind>("dense", "conv", "rnn"),
  width: fc.integer({ min: 2, max: 5 }),
  seed,
});

serialize("a round trip gives identical weights and predictions on reference-f64 and wasm-simd", () => {
  fc.assert(
    fc.property(graphCase, fc.constantFrom<BackendName>("reference-f64", "wasm-simd"), ({ kind, width, seed: s }, backend) => {
      const before = memory().numTensors;
      const graph = smallGraph(kind, width, s, backend);
      const copy = roundTrip(graph, backend);
      assert.equal(copy.spec, graph.spec);
      assert.equal(weightsOf(copy), weightsOf(graph));
      assert.equal(outputsOf(copy, s), outputsOf(graph, s));
      assert.equal(weightsToBytes(copy), weightsToBytes(graph));
      graph.dispose();
      copy.dispose();
      assert.is(memory().numTensors, before);
    }),
    { numRuns: 30 },
  );
});

serialize("shared parameters are stored once, and float32 weights load exactly into float64", () => {
  fc.assert(
    fc.property(graphCase, ({ kind, width, seed: s }) => {
      const graph = smallGraph(kind, width, s, "wasm-simd");
      const json = modelToJSON(graph);
      const names = json.weights.map((w) => w.name);
      assert.is(new Set(names).size, names.length);
      assert.equal(names, graph.parameters.map((p) => p.name));
      assert.ok(graph.nodes.some((n) => n.params.some((p) => p.users.length > 1)));
      assert.is(json.dtype, "float32");
      assert.is(json.byteLength, graph.parameterCount * 4);
      const wide = roundTrip(graph, "reference-f64");
      assert.equal(weightsOf(wide), weightsOf(graph));
      assert.is(modelToJSON(wide).dtype, "float64");
      const narrow = roundTrip(wide, "wasm-simd");
      assert.equal(weightsOf(narrow), weightsOf(graph));
      for (const g of [graph, wide, narrow]) g.dispose();
    }),
    { numRuns: 15 },
  );
});

/** Expects `fn` to throw `type` with a message matching every pattern, and no tensors to leak. */
function rejects(type: new (...args: never[]) => Error, fn: () => unknown, ...patterns: RegExp[]): void {
  const before = memory().numTensors;
  try {
    fn();
  } catch (error) {
    if (!(error instanceof type)) throw new Error(`expected ${type.name}, got ${String(error)}`);
    for (const p of patterns) if (!p.test(error.message)) throw new Error(`"${error.message}" does not match ${p}`);
    assert.is(memory().numTensors, before, "a failed load leaked tensors");
    return;
  }
  throw new Error(`expected ${type.name}, nothing was thrown`);
}

serialize("truncated or padded weights give a SerializationError naming the file and both sizes", () => {
  fc.assert(
    fc.property(graphCase, fc.nat(), fc.integer({ min: 1, max: 9 }), ({ kind, width, seed: s }, cut, extra) => {
      const graph = smallGraph(kind, width, s, "reference-f64");
      const json = modelToJSON(graph);
      const bytes = weightsToBytes(graph);
      const at = cut % bytes.length;
      rejects(SerializationError, () => modelFromJSON(json, bytes.subarray(0, at), { source: "m.json", weightsSource: "w.bin" }),
        /^w\.bin: truncated weights/, new RegExp(`expected ${bytes.length} bytes, got ${at}`));
      rejects(SerializationError, () => modelFromJSON(json, new Uint8Array(bytes.length + extra), { source: "m.json" }),
        /^m\.json: /, /extra data/);
      graph.dispose();
    }),
    { numRuns: 30 },
  );
});

serialize("other versions, other formats and mismatching weight tables are rejected before anything is kept", () => {
  const graph = smallGraph("rnn", 3, 5, "reference-f64");
  const bytes = weightsToBytes(graph);
  const base = modelToJSON(graph);
  const edit = (change: (m: ModelJSON & Record<string, unknown>) => void) => {
    const m = structuredClone(base) as ModelJSON & Record<string, unknown>;
    change(m);
    return m;
  };
  const load = (json: unknown, weights = bytes) => () => modelFromJSON(json, weights, { source: "net.json" });
  rejects(SerializationError, load(edit((m) => ((m as { version: number }).version = 2))), /^net\.json: /, /version 2 .*newer pcgraph/);
  rejects(SerializationError, load(edit((m) => ((m as { version: number }).version = 0))), /unsupported model format version 0/);
  rejects(SerializationError, load(edit((m) => ((m as { format: string }).format = "keras"))), /not a pcgraph model/);
  rejects(SerializationError, load([1, 2]), /not a pcgraph model/);
  rejects(SerializationError, load(edit((m) => ((m as { dtype: string }).dtype = "int8"))), /dtype/);
  rejects(SerializationError, load(edit((m) => m.weights.pop())), /parameter "dense1\.bias" \[2\] has no stored weights/);
  rejects(SerializationError, load(edit((m) => (m.weights[0].name = "ghost.weight"))), /has no stored weights/);
  rejects(SerializationError, load(edit((m) => m.weights.push({ ...m.weights[0] }))), /appears twice/);
  rejects(SerializationError, load(edit((m) => (m.weights[1].offset = m.byteLength))), /past the declared byteLength/);
  rejects(SerializationError, load(edit((m) => (m.weights[0].length += 1))), /does not match shape/);
  rejects(SerializationError, load(edit((m) => (m.spec.nodes[1].inputs = ["nowhere"]))), /^net\.json: invalid graph: .*unknown parent "nowhere"/);
  rejects(ShapeError, load(edit((m) => (m.spec.nodes[0].shape = [3, 0]))), /^net\.json: node "input1"/);
  // Another graph's spec with this table: its parameters have no stored weights.
  const other = smallGraph("conv", 3, 1, "reference-f64");
  rejects(SerializationError, load(edit((m) => (m.spec = modelToJSON(other).spec))), /parameter "conv2d1\.weight" \[2,2,3,3\] has no stored weights/);
  other.dispose();
  // Same names, other shapes: a ShapeError naming the parameter and both shapes.
  const wider = edit((m) => {
    const input = m.spec.nodes.find((n) => n.op === "input")!;
    input.shape = [3, 4];
  });
  rejects(ShapeError, load(wider), /^net\.json: weight "rnn1\.pre0\.weight" is stored with shape \[3,4\], the graph needs \[4,4\]/);
  const extra = edit((m) => {
    m.weights.push({ name: "spare", shape: [1], offset: 0, length: 1 });
  });
  rejects(SerializationError, load(extra), /stored weights "spare" are not parameters of the graph/);
  graph.dispose();
});

serialize("saveModel and loadModel round trip through files; damaged files are named in the error", () => {
  const dir = mkdtempSync(join(tmpdir(), "pcgraph-model-"));
  try {
    const graph = smallGraph("conv", 4, 9, "wasm-simd");
    saveModel(join(dir, "net"), graph);
    const copy = loadModel(join(dir, "net"), { backend: "wasm-simd" });
    assert.equal(weightsOf(copy), weightsOf(graph));
    assert.equal(outputsOf(copy, 3), outputsOf(graph, 3));
    copy.dispose();
    const json = JSON.parse(readFileSync(join(dir, "net", "model.json"), "utf8"));
    assert.is(json.format, "pcgraph-model");
    const weights = readFileSync(join(dir, "net", "weights.bin"));
    writeFileSync(join(dir, "net", "weights.bin"), weights.subarray(0, 10));
    rejects(SerializationError, () => loadModel(join(dir, "net")), /net[/\\]weights\.bin: truncated weights: expected \d+ bytes, got 10/);
    writeFileSync(join(dir, "net", "model.json"), "{ not json");
    rejects(SerializationError, () => loadModel(join(dir, "net")), /net[/\\]model\.json: not valid JSON/);
    rejects(SerializationError, () => loadModel(join(dir, "missing")), /missing[/\\]model\.json: cannot read/);
    graph.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

serialize.run();
