// Helpers shared by kernel families (not exported from the module).

/** out = beta * out over n floats, where beta = 0 clears (ignoring NaN contents). */
export function scaleBy(n: usize, beta: f32, out: usize): void {
  if (beta == 0) {
    memory.fill(out, 0, n << 2);
    return;
  }
  if (beta == 1) return;
  for (let i: usize = 0; i < n; i++) {
    const p = out + (i << 2);
    store<f32>(p, beta * load<f32>(p));
  }
}

// Scratch blocks kept between calls and grown when too small. Each kernel family has its own
// slot, so nested use (a convolution calling gemm) never frees a block still in use.
export const CONV_SCRATCH: i32 = 0;
export const GEMM_SCRATCH: i32 = 1;
export const DISTANCE_SCRATCH: i32 = 2;
const SLOTS: i32 = 3;
const scratchPointers = memory.data(SLOTS * sizeof<usize>());
const scratchSizes = memory.data(SLOTS * sizeof<usize>());

/** The slot's block, at least `bytes` long (contents unspecified). */
export function scratchBlock(slot: i32, bytes: usize): usize {
  const at = <usize>slot * sizeof<usize>();
  let block = load<usize>(scratchPointers + at);
  if (bytes > load<usize>(scratchSizes + at)) {
    if (block != 0) heap.free(block);
    block = heap.alloc(bytes);
    store<usize>(scratchPointers + at, block);
    store<usize>(scratchSizes + at, bytes);
  }
  return block;
}
