// Wasm memory up to its 4 GiB limit: addresses above 2 GiB (negative as i32) work, sizes are
// checked before they reach wasm, and an allocation that cannot be met throws an
// OutOfMemoryError naming the size and the limit, after which the backend still works.
// Each test uses a backend of its own (createBackend), so the large memories it reserves go
// away with it; pages that are never written stay virtual.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { OutOfMemoryError } from "../../src/backend/errors.js";
import type { Backend } from "../../src/backend/kernels.js";
import { createBackend, getBackendByName, type BackendName } from "../../src/backend/load.js";
import type { ThreadedBackend } from "../../src/backend/threaded.js";
import { empty, tensor } from "../../src/tensor.js";
import { randomArray } from "../arbitraries.js";

const limits = suite("wasm memory limits");

const TWO_GiB = 2 ** 31;
const FILLER = 200_000_000; // floats: 800 MB, below the allocator's 1 GiB block limit

/** A fresh backend of `name`; the threaded one splits every call and leaves all blocks to its worker. */
async function fresh(name: BackendName): Promise<Backend> {
  const backend = createBackend(name, name === "wasm-simd-threads" ? { threads: 2, parallelThreshold: 0 } : undefined);
  if (name === "wasm-simd-threads") {
    (backend as ThreadedBackend).setCallerTakesBlocks(false);
    await (backend as ThreadedBackend).whenStarted();
  }
  return backend;
}

function finish(backend: Backend): void {
  backend.dispose?.();
  (globalThis as { gc?: () => void }).gc?.();
}

for (const name of ["wasm-simd", "wasm-simd-threads"] as BackendName[]) {
  limits(`${name}: tensors placed above 2 GiB read and compute correctly`, async () => {
    const backend = await fresh(name);
    const fillers: number[] = [];
    const m = 48, k = 40, n = 24;
    let a = 0;
    // Allocate below until the next buffer lands above 2 GiB.
    while ((a = backend.alloc(m * k)) * 4 < TWO_GiB) {
      backend.free(a);
      fillers.push(backend.alloc(FILLER));
    }
    const b = backend.alloc(k * n), c = backend.alloc(m * n), s = backend.alloc(m * n);
    for (const address of [a, b, c, s]) assert.ok(address * 4 >= TWO_GiB && address * 4 < 2 ** 32, `address ${address * 4}`);
    const aData = Float32Array.from(randomArray(m * k, 1, 2));
    const bData = Float32Array.from(randomArray(k * n, 2, 2));
    backend.write(a, aData);
    backend.write(b, bData);
    backend.matmul(false, false, m, n, k, 1, a, b, 0, c);
    backend.sigmoid(m * n, c, s);
    // The same on a small wasm-simd memory, where everything sits far below 2 GiB.
    const low = getBackendByName("wasm-simd");
    const la = low.alloc(m * k), lb = low.alloc(k * n), lc = low.alloc(m * n), ls = low.alloc(m * n);
    low.write(la, aData);
    low.write(lb, bData);
    low.matmul(false, false, m, n, k, 1, la, lb, 0, lc);
    low.sigmoid(m * n, lc, ls);
    assert.equal(Array.from(backend.read(c, m * n)), Array.from(low.read(lc, m * n)), "matmul above 2 GiB");
    assert.equal(Array.from(backend.read(s, m * n)), Array.from(low.read(ls, m * n)), "sigmoid above 2 GiB");
    for (const address of [la, lb, lc, ls]) low.free(address);
    // Tensors too: their element addresses are past 2^29.
    const t = tensor([1, -2, 3.5, 4], [2, 2], { backend });
    assert.ok(t.address * 4 >= TWO_GiB);
    assert.equal(t.toArray(), [[1, -2], [3.5, 4]]);
    t.dispose();
    if (name === "wasm-simd-threads") assert.ok((backend as ThreadedBackend).threadInfo().stats.blocksRun[1] > 0, "the worker computed");
    for (const address of [a, b, c, s, ...fillers]) backend.free(address);
    finish(backend);
  });

  limits(`${name}: an impossible allocation fails cleanly and the next allocation works`, async () => {
    const backend = await fresh(name);
    // 2^30 + 4 floats are 4 GiB + 16 bytes: as an i32 byte count that would wrap to 16.
    let error: unknown;
    try {
      empty([2 ** 30 + 4], { backend });
    } catch (e) {
      error = e;
    }
    assert.instance(error, OutOfMemoryError);
    const tooLarge = error as OutOfMemoryError;
    assert.is(tooLarge.requestedBytes, (2 ** 30 + 4) * 4);
    assert.ok(tooLarge.limitBytes < 2 ** 30 && tooLarge.limitBytes > 2 ** 30 - 64, `limit ${tooLarge.limitBytes}`);
    assert.match(tooLarge.message, /^tensor \[1073741828\]: wasm-simd(-threads)?: cannot allocate 1073741828 floats \(4\.00 GiB\): one buffer is limited to 1\.00 GiB/);
    // Fill the 4 GiB memory: the allocation that does not fit names the limit.
    const fillers: number[] = [];
    error = undefined;
    try {
      for (let i = 0; i < 8; i++) fillers.push(backend.alloc(FILLER));
    } catch (e) {
      error = e;
    }
    assert.instance(error, OutOfMemoryError);
    assert.is((error as OutOfMemoryError).limitBytes, 2 ** 32);
    assert.match((error as Error).message, /cannot allocate 200000000 floats \(0\.75 GiB\): wasm memory is limited to 4\.00 GiB and [\d.]+ GiB of it is reserved$/);
    assert.ok(fillers.length >= 4, `${fillers.length} fillers fitted`);
    // The backend is still usable: small allocations, kernels, and large ones once freed.
    const x = tensor([1, 2, 3, 4, 5], [5], { backend });
    backend.scale(5, 2, x.address, x.address);
    assert.equal(Array.from(x.dataSync()), [2, 4, 6, 8, 10]);
    x.dispose();
    for (const address of fillers) backend.free(address);
    const again = backend.alloc(FILLER);
    backend.fill(1000, 7, again);
    assert.equal(Array.from(backend.read(again, 3)), [7, 7, 7]);
    backend.free(again);
    finish(backend);
  });
}

limits("a size that is not a count is refused before it reaches wasm", () => {
  const backend = getBackendByName("wasm-simd");
  assert.throws(() => backend.alloc(-1), /cannot allocate -1 elements/);
  assert.throws(() => backend.alloc(2 ** 53), /cannot allocate/);
  assert.throws(() => backend.alloc(1.5), /cannot allocate 1.5 elements/);
});

limits.run();
