// Unmanaged memory for tensors. Blocks come from the runtime's TLSF allocator
// (`--runtime minimal`), so `free` really returns them; every block is 16-byte aligned,
// which keeps v128 loads of a tensor's first element aligned.
import { BLOCK_MAXSIZE } from "~lib/rt/common";

export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

/** The largest block `alloc` can return (the allocator's limit; larger requests trap). */
export function maxAllocationBytes(): usize {
  return BLOCK_MAXSIZE;
}

/** Bytes of linear memory currently reserved by the module (pages * 64 KiB). */
export function memoryBytes(): usize {
  return <usize>memory.size() << 16;
}

/** 1 when this build was compiled with v128 support, else 0. */
export function simdEnabled(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
