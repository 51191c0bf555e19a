// Reusable scratch tensors for kernels that cannot accumulate in place, so hot loops
// allocate nothing after their first pass. `releaseScratch()` frees the pool. Pooled
// tensors belong to no `tidy` scope and are counted apart in memory().scratch.
import type { Backend } from "./backend/kernels.js";
import { adoptAsScratch, Tensor } from "./tensor.js";

const pools = new Map<Backend, Map<string, Tensor[]>>();

/** Runs fn with a scratch tensor of exactly `shape` (contents unspecified). */
export function withScratch<T>(backend: Backend, shape: readonly number[], fn: (scratch: Tensor) => T): T {
  let byShape = pools.get(backend);
  if (!byShape) pools.set(backend, (byShape = new Map()));
  const key = shape.join(",");
  let free = byShape.get(key);
  if (!free) byShape.set(key, (free = []));
  const scratch = free.pop() ?? adoptAsScratch(new Tensor(shape, backend));
  try {
    return fn(scratch);
  } finally {
    free.push(scratch);
  }
}

/** Frees every pooled scratch tensor. */
export function releaseScratch(): void {
  for (const byShape of pools.values()) for (const free of byShape.values()) for (const t of free.splice(0)) t.dispose();
}
