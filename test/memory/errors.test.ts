// Bad input to the memories: a typed error naming the argument, and the memory unchanged.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InvalidArgumentError, ShapeError } from "../../src/backend/errors.js";
import { ClassicHopfield } from "../../src/memory/classic-hopfield.js";
import { modernHopfield, UniversalHopfield } from "../../src/memory/universal-hopfield.js";
import { tensor } from "../../src/tensor.js";
import { leakChecked } from "../util/leaks.js";

const test = suite("memory input errors");
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

check("patterns of different lengths name the row that differs", () => {
  const memory = new UniversalHopfield();
  throwsTyped(() => memory.store([[1, 2, 3], [1, 2, 3], [1, 2]]), ShapeError, "patterns[2]", "2 entries", "patterns[0] has 3");
  assert.is(memory.size, 0, "nothing stored");
  memory.store([[1, 2, 3]]);
  throwsTyped(() => memory.store([[1, 2, 3, 4]]), ShapeError, "patterns", "4 entries", "expected 3");
  assert.is(memory.size, 1);
  memory.dispose();
});

check("an empty memory, or storing nothing, is refused", () => {
  const memory = new UniversalHopfield();
  throwsTyped(() => memory.recall([1, 2, 3]), InvalidArgumentError, "UniversalHopfield.recall", "empty");
  throwsTyped(() => memory.scores([1, 2, 3]), InvalidArgumentError, "empty");
  throwsTyped(() => memory.store([]), InvalidArgumentError, "patterns is empty");
  throwsTyped(() => memory.store([[]]), ShapeError, "patterns", "length 0");
  throwsTyped(() => new ClassicHopfield().recall([1, -1]), InvalidArgumentError, "ClassicHopfield.recall", "empty");
  memory.dispose();
});

check("NaN or infinity in a pattern, target or query names the entry", () => {
  const memory = new UniversalHopfield();
  throwsTyped(() => memory.store([[0, 1], [2, NaN]]), InvalidArgumentError, "patterns[1][1]", "NaN");
  throwsTyped(() => memory.store([[0, 1]], [[Infinity]]), InvalidArgumentError, "targets[0][0]", "Infinity");
  const nanTensor = tensor([1, 2, NaN, 4], [2, 2]);
  throwsTyped(() => memory.store(nanTensor), InvalidArgumentError, "patterns[1][0]");
  nanTensor.dispose();
  assert.is(memory.size, 0);
  memory.store([[0, 1]]);
  throwsTyped(() => memory.recall([NaN, 1]), InvalidArgumentError, "queries[0]", "NaN");
  memory.dispose();
});

check("a query of the wrong size names queries and both sizes", () => {
  const memory = new UniversalHopfield().store([[1, 2, 3], [3, 2, 1]]);
  throwsTyped(() => memory.recall([1, 2]), ShapeError, "UniversalHopfield.recall", "queries", "2 entries", "expected 3");
  throwsTyped(() => memory.recall([[1, 2, 3], [1, 2]]), ShapeError, "queries[1]");
  const wrong = tensor([1, 2, 3, 4], [2, 2]);
  throwsTyped(() => memory.recall(wrong), ShapeError, "queries", "expected 3");
  wrong.dispose();
  memory.dispose();
});

check("a softmax beta (or polynomial degree) that is not a finite positive number names it", () => {
  for (const beta of [Infinity, -Infinity, NaN, 0, -1]) {
    throwsTyped(() => new UniversalHopfield({ separation: { kind: "softmax", beta } }), InvalidArgumentError, "separation.beta", String(beta));
    throwsTyped(() => modernHopfield({ beta }), InvalidArgumentError, "separation.beta");
  }
  throwsTyped(() => new UniversalHopfield({ separation: { kind: "polynomial", degree: NaN } }), InvalidArgumentError, "separation.degree");
  throwsTyped(() => new UniversalHopfield({ separation: "sharpest" as never }), InvalidArgumentError, "separation must be");
  throwsTyped(() => new UniversalHopfield({ similarity: "hamming" as never }), InvalidArgumentError, "similarity must be one of");
});

check("masks: wrong size, values other than 0/1, no known entry, or a row count that fits neither rule", () => {
  const memory = new UniversalHopfield().store([[1, 2, 3], [3, 2, 1]]);
  throwsTyped(() => memory.recall([1, 2, 3], [1, 0]), ShapeError, "mask has 2 entries, expected 3");
  throwsTyped(() => memory.recall([1, 2, 3], [1, 0.5, 0]), InvalidArgumentError, "mask[1]", "0/1");
  throwsTyped(() => memory.recall([1, 2, 3], [0, 0, 0]), InvalidArgumentError, "no entry as known");
  throwsTyped(() => memory.recall([[1, 2, 3], [1, 2, 3], [1, 2, 3]], [[1, 1, 0], [1, 0, 1]]), ShapeError, "2 rows for 3 queries");
  throwsTyped(() => memory.recall([[1, 2, 3], [1, 2, 3]], [[1, 1, 0], [0, 0, 0]]), InvalidArgumentError, "mask[1]");
  memory.dispose();
});

check("targets: one per pattern, and always or never", () => {
  const memory = new UniversalHopfield();
  throwsTyped(() => memory.store([[1, 2], [3, 4]], [[1]]), ShapeError, "2 patterns but 1 targets");
  memory.store([[1, 2]], [[1]]);
  throwsTyped(() => memory.store([[1, 2]]), InvalidArgumentError, "targets missing", "hetero");
  memory.dispose();
  throwsTyped(() => new ClassicHopfield().store([[1, -1]], [[1]]), InvalidArgumentError, "auto-associative");
});

check("options and data outside a similarity's or network's domain", () => {
  throwsTyped(() => new UniversalHopfield({ similarity: "euclidean", separation: "identity", normalize: false }), InvalidArgumentError, "normalize must be true");
  throwsTyped(() => new UniversalHopfield({ normalize: "yes" as never }), InvalidArgumentError, "normalize must be true or false");
  const normalized = new UniversalHopfield({ similarity: "normalizedDot" });
  throwsTyped(() => normalized.store([[1, -2]]), InvalidArgumentError, "patterns[0][1]", "non-negative");
  normalized.store([[1, 2]]);
  throwsTyped(() => normalized.recall([-1, 2]), InvalidArgumentError, "queries[0][0]", "non-negative");
  normalized.dispose();
  const classic = new ClassicHopfield();
  throwsTyped(() => classic.store([[1, 0.5]]), InvalidArgumentError, "patterns[0][1]", "bipolar");
  classic.store([[1, -1, 1]]);
  throwsTyped(() => classic.recall([1, 0, 1]), InvalidArgumentError, "queries[0][1]", "bipolar");
  // Unknown entries of a masked query may hold anything.
  const recalled = classic.recall([1, 0, 1], [1, 0, 1]);
  assert.equal(Array.from(recalled.dataSync()), [1, -1, 1]);
  recalled.dispose();
  classic.dispose();
  throwsTyped(() => new ClassicHopfield({ maxSteps: 0 }), InvalidArgumentError, "maxSteps");
  const user = new UniversalHopfield({ similarity: () => NaN }).store([[1, 2]]);
  throwsTyped(() => user.recall([1, 2]), InvalidArgumentError, "similarity function returned NaN", "pattern 0", "query 0");
  user.dispose();
  const fractional = new UniversalHopfield({ similarity: "negativeManhattan", separation: { kind: "polynomial", degree: 0.5 }, normalize: false })
    .store([[1, 2], [2, 1]]);
  throwsTyped(() => fractional.recall([1, 1]), InvalidArgumentError, "separation.degree 0.5", "negative");
  fractional.dispose();
});

test.run();
