// The machine's practical f32x4 peak: twelve independent chains acc = acc * x + y (a
// multiply then an add), enough chains in flight to hide the latency of both, no memory
// traffic, and nothing loop-invariant a compiler could hoist out of the loop.
// Each step does 12 chains x 4 lanes x 2 flops = 96 flops.

@inline function step(acc: v128, x: v128, y: v128): v128 {
  return f32x4.add(f32x4.mul(acc, x), y);
}

export function run(steps: i32, x: f32, y: f32): f32 {
  const vx = f32x4.splat(x);
  const vy = f32x4.splat(y);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(1), a2 = f32x4.splat(2), a3 = f32x4.splat(3);
  let a4 = f32x4.splat(4), a5 = f32x4.splat(5), a6 = f32x4.splat(6), a7 = f32x4.splat(7);
  let a8 = f32x4.splat(8), a9 = f32x4.splat(9), a10 = f32x4.splat(10), a11 = f32x4.splat(11);
  for (let i = 0; i < steps; i++) {
    a0 = step(a0, vx, vy); a1 = step(a1, vx, vy); a2 = step(a2, vx, vy); a3 = step(a3, vx, vy);
    a4 = step(a4, vx, vy); a5 = step(a5, vx, vy); a6 = step(a6, vx, vy); a7 = step(a7, vx, vy);
    a8 = step(a8, vx, vy); a9 = step(a9, vx, vy); a10 = step(a10, vx, vy); a11 = step(a11, vx, vy);
  }
  // Sum every chain into the result so none of them is dead code.
  const s = f32x4.add(
    f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7))),
    f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

// The machine's practical streaming bandwidth: y = y * a + b over a buffer, one f32x4 load
// and one store per 4 elements, unrolled 4x. Memory-bound kernels (elementwise ops) are
// reported against this: 8 bytes move per element and pass.
let streamBuffer: usize = 0;
let streamLength: i32 = 0;

export function stream(n: i32, passes: i32, a: f32, b: f32): f32 {
  if (streamLength < n) {
    streamBuffer = heap.alloc(<usize>n << 2);
    streamLength = n;
    memory.fill(streamBuffer, 0, <usize>n << 2);
  }
  const va = f32x4.splat(a);
  const vb = f32x4.splat(b);
  const end = streamBuffer + (<usize>(n & ~15) << 2);
  for (let pass = 0; pass < passes; pass++) {
    for (let p = streamBuffer; p < end; p += 64) {
      v128.store(p, f32x4.add(f32x4.mul(v128.load(p), va), vb));
      v128.store(p, f32x4.add(f32x4.mul(v128.load(p, 16), va), vb), 16);
      v128.store(p, f32x4.add(f32x4.mul(v128.load(p, 32), va), vb), 32);
      v128.store(p, f32x4.add(f32x4.mul(v128.load(p, 48), va), vb), 48);
    }
  }
  return load<f32>(streamBuffer);
}
