// The generative PC memory and the backprop autoencoder memory: the PC memory's recall never
// raises its energy (plain descent at a small rate, any small network, corrupted and
// partial queries); stored patterns are recalled from half of them and are fixed points of
// the corrupted recall; the step stream is the recall; checkpoints restore it; bad input is
// a typed error naming the argument or option, with the memory unchanged. (On digits:
// pc-memory-digits.test.ts, which needs the bundled MNIST files.)
import fc from "fast-check";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InvalidArgumentError, ShapeError } from "../../src/backend/errors.js";
import { AutoencoderMemory } from "../../src/memory/autoencoder-memory.js";
import { PCMemory, type PCMemoryOptions } from "../../src/memory/pc-memory.js";
import { decodePCGraphCheckpoint, encodePCGraphCheckpoint } from "../../src/train/checkpoint.js";
import { leakChecked } from "../util/leaks.js";
import { maskRow, rowsOf, unitData } from "./util.js";

const test = suite("PC memory and autoencoder memory");
const check = leakChecked(test);

function throwsTyped(fn: () => unknown, type: new (...args: never[]) => Error, ...mentions: (string | RegExp)[]): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, type, `expected ${type.name}, got ${String(error)}`);
    for (const m of mentions) assert.match((error as Error).message, m);
    return;
  }
  assert.unreachable(`expected ${type.name} mentioning ${mentions.join(", ")}`);
}

const mse = (a: ArrayLike<number>, b: ArrayLike<number>, from = 0, length = b.length) => {
  let s = 0;
  for (let k = 0; k < length; k++) s += (a[from + k] - b[k]) ** 2;
  return s / length;
};

// tanh only: with ReLU the energy is piecewise quadratic, and a unit that steps across 0
// changes the slope under it, so plain descent can bounce at the kink and raise F slightly
// (the descent lemma needs a Lipschitz gradient).
check("the PC memory's inference never raises its energy (plain descent, small rate, tanh; corrupted and partial queries)", async () => {
  await fc.assert(fc.asyncProperty(
    fc.record({
      d: fc.integer({ min: 3, max: 16 }), hidden: fc.integer({ min: 1, max: 6 }), memorySize: fc.integer({ min: 1, max: 6 }),
      n: fc.integer({ min: 1, max: 4 }), seed: fc.integer({ min: 0, max: 1e6 }),
      masked: fc.boolean(), epochs: fc.integer({ min: 0, max: 5 }),
    }),
    async ({ d, hidden, memorySize, n, seed, masked, epochs }) => {
      // gamma 0.02 is below 2 / curvature for these small networks (weights of a few epochs
      // from a Glorot start), so each step of plain gradient descent lowers F (descent lemma).
      const memory = new PCMemory({
        hiddenSizes: [hidden], memorySize, activation: "tanh", seed: seed % 1000, training: { epochs, steps: 5 },
        corrupted: { iterations: 2, steps: 15, gamma: 0.02 }, partial: { steps: 30, gamma: 0.02, momentum: 0, tolerance: 0 },
      });
      try {
        memory.store(rowsOf(unitData(n, d, seed), d));
        const queries = rowsOf(unitData(2, d, seed + 1), d);
        const run = memory.recallSteps(queries, masked ? maskRow(d, seed) : undefined);
        let previous: { iteration: number; energy: number } | null = null;
        for (;;) {
          const next = await run.next();
          if (next.done) break;
          const { iteration, energy } = next.value;
          // Relative f32 slack: the energy is a sum of squares of values of order 1.
          if (previous && previous.iteration === iteration && energy > previous.energy * (1 + 1e-5) + 1e-7)
            throw new Error(`energy rose within relaxation ${iteration}, step ${next.value.step}: ${previous.energy} -> ${energy}`);
          previous = { iteration, energy };
        }
      } finally {
        memory.dispose();
      }
    }), { numRuns: 25, seed: 20210916 });
});

check("an inference rate above the curvature raises the energy (the property above has teeth)", async () => {
  const memory = new PCMemory({ hiddenSizes: [4], memorySize: 3, seed: 1, training: { epochs: 0 }, partial: { steps: 10, gamma: 3, momentum: 0, tolerance: 0 } });
  memory.append(rowsOf(unitData(2, 8, 4), 8));
  const energies: number[] = [];
  for await (const step of memory.recallSteps(rowsOf(unitData(1, 8, 5), 8), maskRow(8, 2))) energies.push(step.energy);
  assert.ok(energies.some((e, t) => t > 0 && e > energies[t - 1]), `energies ${energies.join(", ")}`);
  memory.dispose();
});

check("stored patterns are recalled from half of them, and are fixed points of the corrupted recall (random binary, N = 4)", () => {
  const d = 64;
  const stored = rowsOf(unitData(4, d, 77), d).map((row) => Float32Array.from(row, (v) => (v > 0.5 ? 1 : 0)));
  const memory = new PCMemory({ hiddenSizes: [24], seed: 2, training: { epochs: 600 } }).store(stored);
  assert.ok(memory.converged, `trained to the tolerance (last loss ${memory.history.at(-1)?.lossPerEntry})`);
  const half = Float64Array.from({ length: d }, (_, k) => (k < d / 2 ? 1 : 0));
  const recalled = memory.recall(stored.map((s) => Float32Array.from(s, (v, k) => (half[k] ? v : 0))), half);
  const values = recalled.dataSync();
  recalled.dispose();
  stored.forEach((s, b) => assert.ok(mse(values, s, b * d, d) < 0.001, `pattern ${b} from its first half: MSE ${mse(values, s, b * d, d)}`));
  const again = memory.recall(stored);
  const fixed = again.dataSync();
  again.dispose();
  stored.forEach((s, b) => assert.ok(mse(fixed, s, b * d, d) < 0.001, `pattern ${b} recalls itself: MSE ${mse(fixed, s, b * d, d)}`));
  memory.dispose();
});

check("the step stream is the recall: K relaxations of T + 1 events, ending at recall's result", async () => {
  const memory = new PCMemory({ hiddenSizes: [5], memorySize: 4, seed: 2, training: { epochs: 3 }, corrupted: { iterations: 3, steps: 4 }, partial: { iterations: 2, steps: 6, tolerance: 0 } });
  memory.store(rowsOf(unitData(3, 10, 9), 10));
  for (const mask of [undefined, maskRow(10, 3)]) {
    const queries = rowsOf(unitData(2, 10, 10), 10);
    const direct = memory.recall(queries, mask);
    const expected = Array.from(direct.dataSync());
    direct.dispose();
    const run = memory.recallSteps(queries, mask);
    const seen: [number, number][] = [];
    let lastEstimate: number[] = [];
    for (;;) {
      const next = await run.next();
      if (next.done) {
        assert.equal(Array.from(next.value), expected);
        break;
      }
      seen.push([next.value.iteration, next.value.step]);
      lastEstimate = Array.from(next.value.estimate());
      assert.is(next.value.iterations, mask ? 2 : 3);
    }
    const [iterations, steps] = mask ? [2, 6] : [3, 4];
    assert.equal(seen, Array.from({ length: iterations * (steps + 1) }, (_, i) => [Math.floor(i / (steps + 1)) + 1, i % (steps + 1)]));
    assert.equal(lastEstimate, expected, "the last step's estimate is the recall");
  }
  // A partial recall's later relaxations restart the hidden units, not the unknown entries:
  // relaxation 2 starts where relaxation 1 left them.
  const estimates: number[][] = [];
  for await (const step of memory.recallSteps(rowsOf(unitData(1, 10, 12), 10), maskRow(10, 3)))
    if ((step.iteration === 1 && step.step === 6) || (step.iteration === 2 && step.step === 0)) estimates.push(Array.from(step.estimate()));
  assert.equal(estimates[1], estimates[0]);
  memory.dispose();
});

check("options change what they say: memoryStart, the schedules' steps and iterations", () => {
  const base: PCMemoryOptions = { hiddenSizes: [5], memorySize: 4, seed: 2, training: { epochs: 3 } };
  const patterns = rowsOf(unitData(3, 10, 9), 10);
  const query = rowsOf(unitData(1, 10, 11), 10);
  const recallWith = (options: PCMemoryOptions, mask?: Float64Array) => {
    const memory = new PCMemory({ ...base, ...options }).store(patterns);
    const out = memory.recall(query, mask);
    const values = Array.from(out.dataSync());
    out.dispose();
    memory.dispose();
    return values;
  };
  const reference = recallWith({});
  assert.equal(recallWith({}), reference, "deterministic");
  assert.not.equal(recallWith({ memoryStart: 0.5 }), reference, "memoryStart");
  assert.not.equal(recallWith({ corrupted: { iterations: 2 } }), reference, "corrupted.iterations");
  assert.not.equal(recallWith({ corrupted: { steps: 3 } }), reference, "corrupted.steps");
  const mask = maskRow(10, 1);
  const partial = recallWith({}, mask);
  assert.not.equal(recallWith({ partial: { steps: 7 } }, mask), partial, "partial.steps");
  assert.not.equal(recallWith({ partial: { momentum: 0 } }, mask), partial, "partial.momentum");
  assert.not.equal(recallWith({ activation: "relu" }), reference, "activation");
});

check("a PC-graph checkpoint restores the memory: the same recalls, and more patterns train from where it was", () => {
  const patterns = rowsOf(unitData(4, 12, 3), 12);
  const memory = new PCMemory({ hiddenSizes: [6], memorySize: 5, seed: 4, training: { epochs: 20 } }).store(patterns);
  const bytes = encodePCGraphCheckpoint({ model: memory.network!.model, optimizer: memory.optimizerState()!, progress: { memory: memory.settings } });
  const decoded = decodePCGraphCheckpoint(bytes);
  const restored = PCMemory.restore(decoded.model, decoded.progress.memory as never, patterns, { optimizer: decoded.optimizer, epochs: memory.epochs });
  assert.is(restored.size, 4);
  const query = rowsOf(unitData(2, 12, 8), 12);
  for (const mask of [undefined, maskRow(12, 5)]) {
    const a = memory.recall(query, mask);
    const b = restored.recall(query, mask);
    assert.equal(Array.from(b.dataSync()), Array.from(a.dataSync()));
    a.dispose();
    b.dispose();
  }
  const more = rowsOf(unitData(1, 12, 30), 12);
  memory.store(more);
  restored.store(more);
  assert.equal(Array.from(restored.network!.getWeights().get("memory->hidden.weight")!), Array.from(memory.network!.getWeights().get("memory->hidden.weight")!),
    "the same optimizer state and patterns: the same training");
  throwsTyped(() => PCMemory.restore(decoded.model, { ...memory.settings, hiddenSizes: [7] }, patterns), InvalidArgumentError, "PCMemory.restore", "hidden 6", "hidden 7");
  memory.dispose();
  restored.dispose();
});

check("bad input to the PC memory is a typed error naming the argument; a refused store changes nothing", () => {
  const memory = new PCMemory({ hiddenSizes: [4], training: { epochs: 1 } });
  throwsTyped(() => memory.recall([1, 2, 3]), InvalidArgumentError, "PCMemory.recall", "empty");
  throwsTyped(() => memory.store([[1, 2, 3], [1, 2]]), ShapeError, "patterns[1]", "2 entries");
  throwsTyped(() => memory.store([[0, 1], [2, NaN]]), InvalidArgumentError, "patterns[1][1]", "NaN");
  throwsTyped(() => memory.store([]), InvalidArgumentError, "patterns is empty");
  throwsTyped(() => memory.store([[1, 2]], [[1]]), InvalidArgumentError, "targets");
  assert.is(memory.size, 0, "nothing stored");
  memory.store([[0, 1, 0.5], [1, 0, 0.5]]);
  throwsTyped(() => memory.store([[1, 2, 3, 4]]), ShapeError, "patterns", "4 entries", "expected 3");
  throwsTyped(() => memory.recall([1, 2]), ShapeError, "queries", "expected 3");
  throwsTyped(() => memory.recall([[1, 2, Infinity]]), InvalidArgumentError, "queries[0][2]");
  throwsTyped(() => memory.recall([1, 2, 3], [1, 0]), ShapeError, "mask", "expected 3");
  throwsTyped(() => memory.recall([1, 2, 3], [0, 0, 0]), InvalidArgumentError, "mask", "no entry as known");
  throwsTyped(() => memory.train(-1), InvalidArgumentError, "PCMemory.train", "epochs");
  assert.is(memory.size, 2);
  memory.dispose();
});

check("bad options are refused naming the option", () => {
  const bad: [PCMemoryOptions, string][] = [
    [{ hiddenSizes: [0] }, "hiddenSizes\\[0\\]"],
    [{ hiddenSizes: [] }, "hiddenSizes"],
    [{ memorySize: 2.5 }, "memorySize"],
    [{ activation: "sigmoid" as never }, "activation"],
    [{ memoryStart: NaN }, "memoryStart"],
    [{ training: { gamma: -1 } }, "training.gamma"],
    [{ training: { algorithm: "zil" as never } }, "training.algorithm"],
    [{ training: { stepz: 3 } as never }, "training.stepz is not an option"],
    [{ corrupted: { iterations: 0 } }, "corrupted.iterations"],
    [{ partial: { momentum: 1 } }, "partial.momentum"],
    [{ hidden: 3 } as never, "options.hidden is not an option"],
  ];
  for (const [options, mention] of bad) throwsTyped(() => new PCMemory(options), InvalidArgumentError, new RegExp(`^PCMemory: ${mention}`));
});

check("bad input to the autoencoder memory is a typed error naming the argument", () => {
  const memory = new AutoencoderMemory({ hiddenSizes: [4], training: { epochs: 1 } });
  throwsTyped(() => memory.recall([1, 2, 3]), InvalidArgumentError, "AutoencoderMemory.recall", "empty");
  throwsTyped(() => memory.store([[1, 2, 3], [1, 2]]), ShapeError, "patterns[1]");
  throwsTyped(() => memory.store([[0, NaN]]), InvalidArgumentError, "patterns[0][1]");
  memory.store([[0, 1, 0.5]]);
  throwsTyped(() => memory.recall([1, 2]), ShapeError, "queries", "expected 3");
  throwsTyped(() => new AutoencoderMemory({ codeSize: 0 }), InvalidArgumentError, /^AutoencoderMemory: codeSize/);
  throwsTyped(() => new AutoencoderMemory({ training: { batchSize: 0 } }), InvalidArgumentError, /^AutoencoderMemory: training.batchSize/);
  throwsTyped(() => new AutoencoderMemory({ partialIterations: 1.5 }), InvalidArgumentError, /^AutoencoderMemory: partialIterations/);
  memory.dispose();
});

test.run();
