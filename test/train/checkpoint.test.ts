import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import * as nodeFs from "node:fs";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShapeError } from "../../src/backend/errors.js";
import type { BackendName } from "../../src/backend/load.js";
import { GraphBuilder } from "../../src/graph/builder.js";
import { SerializationError } from "../../src/graph/errors.js";
import type { Graph } from "../../src/graph/graph.js";
import { weightsToBytes } from "../../src/graph/serialize.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/node/checkpoint-files.js";
import { writeFileAtomic, type AtomicWriteFs } from "../../src/node/files.js";
import { decodeCheckpoint, encodeCheckpoint, type OptimizerStateData } from "../../src/train/checkpoint.js";
import { crc32 } from "../../src/train/crc32.js";
import { memory } from "../../src/tensor.js";
import { randomArray, seed } from "../arbitraries.js";

const checkpoint = suite("checkpoints");

function smallGraph(s: number, backend: BackendName, rnn: boolean): Graph {
  const g = new GraphBuilder();
  if (rnn) {
    const x = g.input([3, 2]);
    return g.build({ output: g.dense(g.rnn(x, 3, 3), 2), loss: "mse", seed: s, backend });
  }
  const x = g.input([4]);
  return g.build({ output: g.dense(g.relu(g.dense(x, 5)), 3), loss: "softmaxCrossEntropy", seed: s, backend });
}

const specials = [0, -0, 1e-40, -1e-320, Infinity, -Infinity, NaN, 3.4e38];

/** Adam-like state: m and v for every parameter, in the graph's dtype, with awkward values mixed in. */
function adamState(graph: Graph, s: number, step: number): OptimizerStateData {
  const f64 = graph.backend.dtype === "float64";
  const slots = graph.parameters.flatMap((p, i) =>
    ["m", "v"].map((kind, j) => {
      const values = randomArray(p.size, s + 31 * i + j, 0.1);
      values[0] = specials[(s + i + j) % specials.length];
      return { name: `${p.name}/${kind}`, shape: [...p.shape], data: f64 ? Float64Array.from(values) : Float32Array.from(values) };
    }),
  );
  return { kind: "adam", config: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, step, slots };
}

const progressOf = (s: number) => ({
  epoch: s % 7,
  batch: s % 113,
  seeds: { data: s, init: s ^ 0x55 },
  history: [{ loss: 0.1 + s / 1e9, accuracy: 0.5 }, { loss: 1 / 3, accuracy: 0.75 }],
  note: "résumé ✓",
});

const bytesOf = (a: Float32Array | Float64Array) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

const checkpointCase = fc.record({ seed, backend: fc.constantFrom<BackendName>("wasm-simd", "reference-f64"), rnn: fc.boolean(), step: fc.nat(10_000) });

function withCheckpoint<T>(c: { seed: number; backend: BackendName; rnn: boolean; step: number }, fn: (bytes: Uint8Array, graph: Graph, optimizer: OptimizerStateData) => T): T {
  const graph = smallGraph(c.seed, c.backend, c.rnn);
  try {
    const optimizer = adamState(graph, c.seed, c.step);
    return fn(encodeCheckpoint({ graph, optimizer, progress: progressOf(c.seed) }), graph, optimizer);
  } finally {
    graph.dispose();
  }
}

checkpoint("a round trip is bit for bit: weights, optimizer slots, step, config and progress", () => {
  fc.assert(
    fc.property(checkpointCase, (c) => {
      const before = memory().numTensors;
      withCheckpoint(c, (bytes, graph, optimizer) => {
        const back = decodeCheckpoint(bytes, { backend: c.backend, source: "run.ckpt" });
        try {
          assert.equal(back.graph.spec, graph.spec);
          assert.equal(Array.from(weightsToBytes(back.graph)), Array.from(weightsToBytes(graph)));
          assert.is(back.optimizer.kind, "adam");
          assert.is(back.optimizer.step, c.step);
          assert.equal(back.optimizer.config, optimizer.config);
          assert.equal(back.progress, progressOf(c.seed));
          assert.is(back.optimizer.slots.length, optimizer.slots.length);
          back.optimizer.slots.forEach((slot, i) => {
            assert.is(slot.name, optimizer.slots[i].name);
            assert.equal(slot.shape, optimizer.slots[i].shape);
            assert.is(slot.data.constructor, optimizer.slots[i].data.constructor);
            assert.equal(bytesOf(slot.data), bytesOf(optimizer.slots[i].data));
          });
          // Encoding what was decoded gives the same file.
          assert.equal(Array.from(encodeCheckpoint(back)), Array.from(bytes));
        } finally {
          back.graph.dispose();
        }
      });
      assert.is(memory().numTensors, before);
    }),
    { numRuns: 30 },
  );
});

/** Expects a SerializationError naming the file whose message matches `pattern`, and no leaked tensors. */
function rejects(fn: () => unknown, pattern: RegExp, type: new (...args: never[]) => Error = SerializationError): void {
  const before = memory().numTensors;
  try {
    fn();
  } catch (error) {
    if (!(error instanceof type)) throw new Error(`expected ${type.name}, got ${String(error)}`);
    if (!/^run\.ckpt: /.test(error.message)) throw new Error(`"${error.message}" does not name the file`);
    if (!pattern.test(error.message)) throw new Error(`"${error.message}" does not match ${pattern}`);
    assert.is(memory().numTensors, before, "a failed load leaked tensors");
    return;
  }
  throw new Error(`expected ${type.name}, nothing was thrown`);
}

checkpoint("corrupting any byte gives a checksum error (bad magic in bytes 0-7, another version in 8-11)", () => {
  fc.assert(
    fc.property(checkpointCase, fc.nat(), fc.integer({ min: 1, max: 255 }), (c, where, mask) => {
      withCheckpoint(c, (bytes) => {
        const position = where % bytes.length;
        const damaged = bytes.slice();
        damaged[position] ^= mask;
        const expected = position < 8 ? /not a pcgraph checkpoint \(bad magic bytes/ : position < 12 ? /checkpoint format version \d+/ : /checksum mismatch/;
        rejects(() => decodeCheckpoint(damaged, { source: "run.ckpt" }), expected);
      });
    }),
    { numRuns: 300 },
  );
});

checkpoint("every byte of the header-length field and the header itself is covered", () => {
  withCheckpoint({ seed: 3, backend: "wasm-simd", rnn: true, step: 1 }, (bytes) => {
    const headerLength = new DataView(bytes.buffer).getUint32(12, true);
    for (let position = 12; position < 16 + headerLength; position++)
      for (const mask of [1, 0x20, 0x80]) {
        const damaged = bytes.slice();
        damaged[position] ^= mask;
        rejects(() => decodeCheckpoint(damaged, { source: "run.ckpt" }), /checksum mismatch/);
      }
  });
});

checkpoint("truncating at any byte gives a 'truncated' error with the sizes", () => {
  fc.assert(
    fc.property(checkpointCase, fc.nat(), (c, cut) => {
      withCheckpoint(c, (bytes) => {
        const at = cut % bytes.length;
        rejects(() => decodeCheckpoint(bytes.subarray(0, at), { source: "run.ckpt" }), /truncated checkpoint/);
      });
    }),
    { numRuns: 200 },
  );
  withCheckpoint({ seed: 1, backend: "reference-f64", rnn: false, step: 0 }, (bytes) => {
    rejects(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 1), { source: "run.ckpt" }),
      new RegExp(`expected ${bytes.length} bytes, got ${bytes.length - 1}`));
    rejects(() => decodeCheckpoint(Uint8Array.from([...bytes, 0]), { source: "run.ckpt" }), /unexpected data after the checksum/);
  });
});

/** Rewrites the JSON header (and the checksum), keeping the payload. */
function withHeader(bytes: Uint8Array, change: (header: Record<string, any>) => void, version = 1): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const length = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length)));
  const payload = bytes.subarray(Math.floor((16 + length) / 8) * 8 + 8, bytes.length - 4);
  change(header);
  const text = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.floor((16 + text.length) / 8) * 8 + 8;
  const out = new Uint8Array(start + payload.length + 4);
  const outView = new DataView(out.buffer);
  out.set(bytes.subarray(0, 8));
  outView.setUint32(8, version, true);
  outView.setUint32(12, text.length, true);
  out.set(text, 16);
  out.set(payload, start);
  outView.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

checkpoint("intact files with another version or a header that does not fit the graph give named errors and leak nothing", () => {
  withCheckpoint({ seed: 2, backend: "wasm-simd", rnn: false, step: 4 }, (bytes) => {
    const intact = decodeCheckpoint(withHeader(bytes, () => {}), { backend: "wasm-simd" });
    assert.is(intact.graph.parameters.length, 4);
    intact.graph.dispose();
    rejects(() => decodeCheckpoint(withHeader(bytes, () => {}, 2), { source: "run.ckpt" }), /version 2 is newer than this pcgraph reads/);
    rejects(() => decodeCheckpoint(withHeader(bytes, (h) => (h.model.version = 3)), { source: "run.ckpt" }), /model format version 3 was written by a newer pcgraph/);
    rejects(() => decodeCheckpoint(withHeader(bytes, (h) => (h.model.spec.nodes[0].shape = [5])), { source: "run.ckpt" }),
      /weight "dense1\.weight" is stored with shape \[4,5\], the graph needs \[5,5\]/, ShapeError);
    rejects(() => decodeCheckpoint(withHeader(bytes, (h) => (h.model.spec.output = "nowhere")), { source: "run.ckpt" }), /invalid graph/);
    rejects(() => decodeCheckpoint(withHeader(bytes, (h) => delete h.optimizer.slots), { source: "run.ckpt" }), /corrupt header/);
    rejects(() => decodeCheckpoint(withHeader(bytes, (h) => (h.progress = [1])), { source: "run.ckpt" }), /corrupt header: progress/);
    rejects(() => decodeCheckpoint(new TextEncoder().encode("PK\x03\x04 a zip file"), { source: "run.ckpt" }), /not a pcgraph checkpoint/);
  });
});

/** node:fs with one call made to fail, as a full disk or a lost mount would. */
function failingFs(failAt: "open" | "write" | "fsync" | "rename"): AtomicWriteFs {
  const fail = (call: string) => Object.assign(new Error(`${call}: simulated failure`), { code: "ENOSPC" });
  return {
    openSync: (path, flags, mode) => (failAt === "open" ? (() => { throw fail("open"); })() : nodeFs.openSync(path, flags, mode)),
    writeSync: (fd, data, offset = 0, length = data.length - offset) => {
      if (failAt !== "write") return nodeFs.writeSync(fd, data, offset, length);
      nodeFs.writeSync(fd, data, offset, Math.floor(length / 2));
      throw fail("write");
    },
    fsyncSync: (fd) => (failAt === "fsync" ? (() => { throw fail("fsync"); })() : nodeFs.fsyncSync(fd)),
    closeSync: (fd) => nodeFs.closeSync(fd),
    renameSync: (from, to) => (failAt === "rename" ? (() => { throw fail("rename"); })() : nodeFs.renameSync(from, to)),
    unlinkSync: (path) => nodeFs.unlinkSync(path),
  };
}

checkpoint("saveCheckpoint and loadCheckpoint round trip; a failed write leaves the old file intact and no temporary file", () => {
  const dir = mkdtempSync(join(tmpdir(), "pcgraph-ckpt-"));
  try {
    const path = join(dir, "run.ckpt");
    const graph = smallGraph(8, "wasm-simd", true);
    const optimizer = adamState(graph, 8, 12);
    saveCheckpoint(path, { graph, optimizer, progress: progressOf(8) });
    const saved = readFileSync(path);
    const back = loadCheckpoint(path, { backend: "wasm-simd" });
    assert.equal(Array.from(weightsToBytes(back.graph)), Array.from(weightsToBytes(graph)));
    assert.equal(back.progress, progressOf(8));
    back.graph.dispose();

    for (const failAt of ["open", "write", "fsync", "rename"] as const) {
      assert.throws(() => writeFileAtomic(path, new Uint8Array(5000).fill(7), { fs: failingFs(failAt) }), /simulated failure/);
      assert.equal(readFileSync(path), saved, `old file changed after a failed ${failAt}`);
      assert.equal(readdirSync(dir), ["run.ckpt"], `a temporary file was left after a failed ${failAt}`);
    }
    // Without write permission (not enforced for root).
    if (process.getuid?.() !== 0) {
      nodeFs.chmodSync(dir, 0o500);
      try {
        assert.throws(() => saveCheckpoint(path, { graph, optimizer, progress: {} }));
      } finally {
        nodeFs.chmodSync(dir, 0o700);
      }
      assert.equal(readFileSync(path), saved);
    }
    writeFileAtomic(path, "replaced");
    assert.is(readFileSync(path, "utf8"), "replaced");
    assert.equal(readdirSync(dir), ["run.ckpt"]);

    writeFileSync(join(dir, "short.ckpt"), saved.subarray(0, 100));
    assert.throws(() => loadCheckpoint(join(dir, "short.ckpt")), (e: Error) =>
      e instanceof SerializationError && e.message.startsWith(join(dir, "short.ckpt")) && /truncated/.test(e.message));
    assert.throws(() => loadCheckpoint(join(dir, "none.ckpt")), /none\.ckpt: cannot read the checkpoint/);
    graph.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

checkpoint("the CRC-32 is the standard one", () => {
  assert.is(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.is(crc32(new Uint8Array(0)), 0);
});

checkpoint.run();
