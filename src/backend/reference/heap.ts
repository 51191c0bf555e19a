// A growable Float64Array with a first-fit free list: the reference backend's memory.
// Growing replaces the array, so (as with wasm memory.grow) old views go stale.

const ALIGN = 2; // elements: 16 bytes of f64

interface FreeBlock {
  start: number;
  length: number;
}

export class Float64Heap {
  private memory = new Float64Array(1 << 12);
  private readonly free: FreeBlock[] = [{ start: 0, length: 1 << 12 }];
  private readonly sizes = new Map<number, number>();

  get array(): Float64Array {
    return this.memory;
  }

  alloc(length: number): number {
    const size = Math.max(ALIGN, Math.ceil(length / ALIGN) * ALIGN);
    let index = this.free.findIndex((block) => block.length >= size);
    if (index < 0) {
      this.grow(size);
      index = this.free.findIndex((block) => block.length >= size);
    }
    const block = this.free[index];
    const start = block.start;
    block.start += size;
    block.length -= size;
    if (block.length === 0) this.free.splice(index, 1);
    this.sizes.set(start, size);
    return start;
  }

  release(start: number): void {
    const size = this.sizes.get(start);
    if (size === undefined) throw new Error(`reference heap: free of unknown address ${start}`);
    this.sizes.delete(start);
    // Insert in address order and merge with neighbours.
    let index = this.free.findIndex((block) => block.start > start);
    if (index < 0) index = this.free.length;
    this.free.splice(index, 0, { start, length: size });
    const next = this.free[index + 1];
    if (next && start + size === next.start) {
      this.free[index].length += next.length;
      this.free.splice(index + 1, 1);
    }
    const previous = this.free[index - 1];
    if (previous && previous.start + previous.length === start) {
      previous.length += this.free[index].length;
      this.free.splice(index, 1);
    }
  }

  private grow(atLeast: number): void {
    const oldLength = this.memory.length;
    const newLength = Math.max(oldLength * 2, oldLength + atLeast);
    const grown = new Float64Array(newLength);
    grown.set(this.memory);
    this.memory = grown;
    const last = this.free[this.free.length - 1];
    if (last && last.start + last.length === oldLength) last.length += newLength - oldLength;
    else this.free.push({ start: oldLength, length: newLength - oldLength });
  }
}
