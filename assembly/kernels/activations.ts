// Activations: forward out = f(x) and gradient dx = f'(x) * dy, over n f32 elements
// (out may alias x, dx may alias x or dy).
//
// The SIMD build evaluates the transcendentals on f32x4 with Cephes-style range
// reduction and minimax polynomials (Moshier, Cephes Math Library, expf.c and logf.c);
// the scalar tail and the scalar build use the same stable formulas with Mathf (musl's
// expf, logf, log1pf and tanhf).
// The formulas avoid overflow and cancellation for every finite input:
//   sigmoid(x)    = (x >= 0 ? 1 : u) / (1 + u),        u = e^-|x|
//   sigmoid'(x)   = u / (1 + u)^2
//   tanh(x)       = sign(x) m / (m + 2),              m = e^2|x| - 1
//   tanh'(x)      = 4u / (1 + u)^2,                    u = e^-2|x|
//   softplus(x)   = max(x, 0) + log1p(e^-|x|)
//   gelu(x)       = x sigmoid(2z),  z = sqrt(2/pi) (x + 0.044715 x^3)
//                   (since 0.5 (1 + tanh z) = sigmoid(2z), exact for negative x too)

/** Byte offset of element i. */
// @ts-ignore: decorator
@inline function at(i: i32): usize {
  return <usize>i << 2;
}

// 2 sqrt(2/pi) and 2 sqrt(2/pi) * 0.044715: gelu's 2z = x (GELU_A + GELU_B x^2).
const GELU_A: f32 = 1.5957691216057308;
const GELU_B: f32 = 0.07135481627159025;

// ---- vector math (SIMD build) ------------------------------------------------------------

// Vector constants live in static data and are read with one broadcast load each
// (v128.load32_splat): V8 rebuilds a v128 immediate with three instructions at every use.
// @ts-ignore: decorator
@inline function splatAt(ptr: usize): v128 {
  return v128.load32_splat(ptr);
}

// @ts-ignore: decorator
@inline function mulAdd(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}

const ONE = memory.data<f32>([1.0]);
const TWO = memory.data<f32>([2.0]);
const FOUR = memory.data<f32>([4.0]);
const HALF = memory.data<f32>([0.5]);
const SIGN_BIT = memory.data<u32>([0x80000000]);
const INFINITY = memory.data<f32>([Infinity]);
const MINUS_INFINITY = memory.data<f32>([-Infinity]);
const QUIET_NAN = memory.data<f32>([NaN]);

// expf (Cephes): clamp, 2^n via a rounding shifter, ln 2 in two parts, degree-5 polynomial.
const EXP_MAX = memory.data<f32>([88.8]); // e^88.8 > FLT_MAX: +Infinity
const EXP_MIN = memory.data<f32>([-104.0]); // e^-104 < FLT_TRUE_MIN / 2: 0
const EXP_NORMAL_MIN = memory.data<f32>([-87.33]); // below: subnormal results (n < -126)

/** The lower end of the vector exp's normal range, for kernels that test a whole row against it once. Generic only so that it is not a module export. */
// @ts-ignore: decorator
@inline export function expNormalLowest<T = f32>(): f32 {
  return load<f32>(EXP_NORMAL_MIN);
}
const EXP_NORMAL_MAX = memory.data<f32>([88.37]); // above: n = 128
const LOG2E = memory.data<f32>([1.44269504088896341]);
// 1.5 * 2^23 + 127: added to an integer n (|n| < 2^22) it leaves n + 127, the biased exponent
// of 2^n, in the low mantissa bits; added to x / ln 2 (tanh's e^r - 1) it also rounds it to n.
const EXP_SHIFTER = memory.data<f32>([12583039.0]);
const EXP_SHIFTER_BASE = memory.data<u32>([0x4b400000]); // bits of 1.5 * 2^23
const EXP_BIAS = memory.data<i32>([127]);
const LN2_HI = memory.data<f32>([0.693359375]);
const LN2_LO = memory.data<f32>([-2.12194440e-4]);
// e^r = 1 + r + r^2 Q(r) on [-ln2/2, ln2/2], Q of degree 3: the minimax of the relative
// error with the linear term fixed at 1 (scripts/fit-exp-polynomial.mjs), 1.05e-7 in exact
// arithmetic, 2.1e-7 as the f32 kernel evaluates it (Estrin's form, expReduced); the exact 1
// saves a multiplication and a constant over a free linear coefficient, for 1.4e-8 more. Two
// degrees fewer than Cephes' 1 + r + r^2 P(r) below, which tanh keeps for its e^r - 1.
const EXP_Q2 = memory.data<f32>([0.499992311000824]);
const EXP_Q3 = memory.data<f32>([0.16667114198207855]);
const EXP_Q4 = memory.data<f32>([0.041890114545822144]);
const EXP_Q5 = memory.data<f32>([0.008312526158988476]);
// Cephes' expm1 polynomial (tanh's e^r - 1 keeps full relative accuracy for tiny r).
const EXP_P0 = memory.data<f32>([1.9875691500e-4]);
const EXP_P1 = memory.data<f32>([1.3981999507e-3]);
const EXP_P2 = memory.data<f32>([8.3334519073e-3]);
const EXP_P3 = memory.data<f32>([4.1665795894e-2]);
const EXP_P4 = memory.data<f32>([1.6666665459e-1]);
const EXP_P5 = memory.data<f32>([5.0000001201e-1]);

/** r = x - n ln 2, ln 2 in two parts so that r is nearly exact (ln2_hi has 9 bits: n ln2_hi is exact). */
// @ts-ignore: decorator
@inline function reduced(x: v128, n: v128): v128 {
  return f32x4.sub(f32x4.sub(x, f32x4.mul(n, splatAt(LN2_HI))), f32x4.mul(n, splatAt(LN2_LO)));
}

/** e^r - 1 = r + r^2 P(r) for r = x - n ln 2. */
// @ts-ignore: decorator
@inline function expMinusOneReduced(x: v128, n: v128): v128 {
  const r = reduced(x, n);
  let p = mulAdd(splatAt(EXP_P0), r, splatAt(EXP_P1));
  p = mulAdd(p, r, splatAt(EXP_P2));
  p = mulAdd(p, r, splatAt(EXP_P3));
  p = mulAdd(p, r, splatAt(EXP_P4));
  p = mulAdd(p, r, splatAt(EXP_P5));
  return mulAdd(p, f32x4.mul(r, r), r);
}

/**
 * e^r = 1 + r + r^2 Q(r) for r = x - n ln 2, in Estrin's form (1 + r) + r^2 ((q2 + q3 r) +
 * r^2 (q4 + q5 r)): three multiply-adds deep after r^2 where Horner's is five. The exp
 * loops are bound by this chain's latency rather than by the arithmetic units, so the one
 * extra multiplication costs nothing.
 */
// @ts-ignore: decorator
@inline function expReduced(x: v128, n: v128): v128 {
  const r = reduced(x, n);
  const r2 = f32x4.mul(r, r);
  const low = f32x4.add(r, splatAt(ONE));
  const middle = mulAdd(splatAt(EXP_Q3), r, splatAt(EXP_Q2));
  const high = mulAdd(splatAt(EXP_Q5), r, splatAt(EXP_Q4));
  return mulAdd(mulAdd(high, r2, middle), r2, low);
}

/**
 * e^x for lanes whose 2^n is not a normal f32 (n < -126 or n = 128) or that are infinite:
 * x is clamped to [-104, 88.8] (keeping NaN) and 2^n is applied as two normal factors
 * 2^h 2^(n - h), h = n >> 1, so subnormal results round once and x > 88.72 gives +Infinity.
 */
function expWide(x: v128): v128 {
  // pmin/pmax keep a NaN first operand.
  x = f32x4.pmax(f32x4.pmin(x, splatAt(EXP_MAX)), splatAt(EXP_MIN));
  const n = f32x4.nearest(f32x4.mul(x, splatAt(LOG2E)));
  const t = f32x4.add(n, splatAt(EXP_SHIFTER));
  const y = expReduced(x, n);
  const bias = splatAt(EXP_BIAS);
  const biased = i32x4.sub(t, splatAt(EXP_SHIFTER_BASE)); // n + 127
  const h = i32x4.shr_s(i32x4.sub(biased, bias), 1);
  const s1 = i32x4.shl(i32x4.add(h, bias), 23);
  const s2 = i32x4.shl(i32x4.sub(biased, h), 23);
  return f32x4.mul(f32x4.mul(y, s1), s2);
}

/**
 * e^x on 4 lanes: n = round(x / ln 2) (f32x4.nearest: one instruction, where rounding by
 * adding a shifter and subtracting it again is two on the latency chain), r = x - n ln 2 in
 * two parts (as Cephes expf), e^r = 1 + r + r^2 Q(r) with a degree-3 minimax Q on [-ln2/2, ln2/2];
 * max relative error 2.1e-7 (2 ulp; `node scripts/fit-exp-polynomial.mjs`). 2^n is built
 * by shifting n + 127 (n plus the shifter, exact) into the exponent field: from n itself, so
 * that at a tie of the rounding both use the same n. Vectors with a lane outside
 * [-87.33, 88.37] (subnormal or overflowing results, infinities) take expWide. NaN stays NaN.
 * Generic only so that the `export *` of this file does not make it a module export
 * (v128 values cannot cross to JS); softmax.ts imports it.
 */
// @ts-ignore: decorator
@inline export function expV<T = f32>(x: v128): v128 {
  const outside = v128.or(f32x4.lt(x, splatAt(EXP_NORMAL_MIN)), f32x4.gt(x, splatAt(EXP_NORMAL_MAX)));
  let result: v128;
  if (!v128.any_true(outside)) {
    const n = f32x4.nearest(f32x4.mul(x, splatAt(LOG2E)));
    // n + 127 sits in the low bits of n + shifter: shifted into the exponent field it is 2^n.
    result = f32x4.mul(expReduced(x, n), i32x4.shl(f32x4.add(n, splatAt(EXP_SHIFTER)), 23));
  } else {
    result = expWide(x);
  }
  return result;
}

// ---- exp with its constants in locals ---------------------------------------------------
//
// Inside a loop, a broadcast load per use of a constant costs more than the arithmetic it
// feeds: the hot kernels below (sigmoid, exp, softmax) load the constants of the exp
// reduction and polynomial once per call into locals, which stay in registers, and pass them
// down. They compute exactly what expV computes, in the same order, so the bits are the same;
// vectors with a lane outside expV's normal range still go through expV.

/** expV's constants, loaded once: log2e, shifter, ln 2 hi and lo, Q2..Q5 and 1. */
// @ts-ignore: decorator
@inline function expInRange(x: v128, log2e: v128, shifter: v128, ln2Hi: v128, ln2Lo: v128,
  q2: v128, q3: v128, q4: v128, q5: v128, one: v128): v128 {
  const n = f32x4.nearest(f32x4.mul(x, log2e));
  const t = f32x4.add(n, shifter);
  let r = f32x4.sub(x, f32x4.mul(n, ln2Hi));
  r = f32x4.sub(r, f32x4.mul(n, ln2Lo));
  const r2 = f32x4.mul(r, r);
  const low = f32x4.add(r, one);
  const middle = mulAdd(q3, r, q2);
  const high = mulAdd(q5, r, q4);
  return f32x4.mul(mulAdd(mulAdd(high, r2, middle), r2, low), i32x4.shl(t, 23));
}

/**
 * True when a lane of the four vectors is below `lowest` or, with `checkHigh`, above `highest`
 * (NaN lanes are inside, as in expV). Arguments known to be <= 0 skip the upper test.
 */
// @ts-ignore: decorator
@inline function anyOutside4(a: v128, b: v128, c: v128, d: v128, lowest: v128, highest: v128, checkHigh: bool): bool {
  const low = v128.or(v128.or(f32x4.lt(a, lowest), f32x4.lt(b, lowest)), v128.or(f32x4.lt(c, lowest), f32x4.lt(d, lowest)));
  if (!checkHigh) return v128.any_true(low);
  const high = v128.or(v128.or(f32x4.gt(a, highest), f32x4.gt(b, highest)), v128.or(f32x4.gt(c, highest), f32x4.gt(d, highest)));
  return v128.any_true(v128.or(low, high));
}

/**
 * sum over i < n of e^(x[i] - shift), accumulated in f64 (two f64x2 sums, lanes 0-1 and 2-3),
 * writing each e^(x[i] - shift) to out when `keep`; the softmax kernels' exp pass. `shift`
 * is the maximum of x (or NaN), so every argument is <= 0 or NaN and only the lower end of
 * exp's normal range is tested, and only when `checkLow`: the caller may know that no
 * x[i] - shift falls below it (the row's minimum does not). The vector part covers the first
 * n & ~3 elements and returns its sum; the caller adds the tail. Generic only so that it is
 * not a module export.
 *
 * With `finishing` (and checkLow false) the loop also finishes the softmax kernels' previous
 * row, over its first n & ~15 elements: finishing 1 writes previousOut = previousA *
 * previousIn (softmax's scaling), 2 writes previousOut = (previousIn - previousA) - previousB
 * (log-softmax's shift). The exp pass keeps the arithmetic units busy and leaves loads and
 * stores to spare; that pass, on its own, is mostly loads and stores. `shifted` false: shift
 * is 0 (softmax without the shift, arguments up to 64) and the fast loop skips x - 0, which is x.
 * `termsInF64`: every term is added in f64 (log-softmax, whose ln(sum) needs the sum to within
 * its f64 rounding: for a row with one dominant entry, sum = 1 + s with s small, and an f32
 * partial sum would leave ln(sum) ~ s off by up to 6e-8 absolute); else in f32 first (below).
 */
// @ts-ignore: decorator
@inline export function shiftedExpSumV<T = f32>(n: i32, x: usize, shift: f32, out: usize, keep: bool, checkLow: bool,
  finishing: i32 = 0, previousIn: usize = 0, previousOut: usize = 0, previousA: f32 = 0, previousB: f32 = 0,
  shifted: bool = true, termsInF64: bool = false): f64 {
  const log2e = splatAt(LOG2E), shifter = splatAt(EXP_SHIFTER), ln2Hi = splatAt(LN2_HI), ln2Lo = splatAt(LN2_LO);
  const q2 = splatAt(EXP_Q2), q3 = splatAt(EXP_Q3), q4 = splatAt(EXP_Q4);
  const q5 = splatAt(EXP_Q5), one = splatAt(ONE);
  const lowest = splatAt(EXP_NORMAL_MIN), highest = splatAt(EXP_NORMAL_MAX);
  const vshift = f32x4.splat(shift);
  const va = f32x4.splat(previousA), vb = f32x4.splat(previousB);
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let partial = f32x4.splat(0);
  let i = 0;
  while (i + 16 <= n) {
    // The fast loop holds no call (the constants stay in registers); a step with a lane
    // below the normal range leaves it for expV, vector by vector, below.
    for (; i + 16 <= n; i += 16) {
      const p = x + at(i);
      let a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
      if (shifted) {
        a = f32x4.sub(a, vshift);
        b = f32x4.sub(b, vshift);
        c = f32x4.sub(c, vshift);
        d = f32x4.sub(d, vshift);
      }
      if (checkLow && anyOutside4(a, b, c, d, lowest, highest, false)) break;
      const ea = expInRange(a, log2e, shifter, ln2Hi, ln2Lo, q2, q3, q4, q5, one);
      const eb = expInRange(b, log2e, shifter, ln2Hi, ln2Lo, q2, q3, q4, q5, one);
      const ec = expInRange(c, log2e, shifter, ln2Hi, ln2Lo, q2, q3, q4, q5, one);
      const ed = expInRange(d, log2e, shifter, ln2Hi, ln2Lo, q2, q3, q4, q5, one);
      if (keep) {
        const q = out + at(i);
        v128.store(q, ea);
        v128.store(q, eb, 16);
        v128.store(q, ec, 32);
        v128.store(q, ed, 48);
      }
      if (finishing == 1) {
        const from = previousIn + at(i), to = previousOut + at(i);
        v128.store(to, f32x4.mul(va, v128.load(from)));
        v128.store(to, f32x4.mul(va, v128.load(from, 16)), 16);
        v128.store(to, f32x4.mul(va, v128.load(from, 32)), 32);
        v128.store(to, f32x4.mul(va, v128.load(from, 48)), 48);
      } else if (finishing == 2) {
        const from = previousIn + at(i), to = previousOut + at(i);
        v128.store(to, f32x4.sub(f32x4.sub(v128.load(from), va), vb));
        v128.store(to, f32x4.sub(f32x4.sub(v128.load(from, 16), va), vb), 16);
        v128.store(to, f32x4.sub(f32x4.sub(v128.load(from, 32), va), vb), 32);
        v128.store(to, f32x4.sub(f32x4.sub(v128.load(from, 48), va), vb), 48);
      }
      if (termsInF64) {
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(ea));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(ea, ea, 2, 3, 2, 3)));
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(eb));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(eb, eb, 2, 3, 2, 3)));
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(ec));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(ec, ec, 2, 3, 2, 3)));
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(ed));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(ed, ed, 2, 3, 2, 3)));
        continue;
      }
      // The step's four vectors summed in f32 (two roundings of terms in (0, 1] each), four
      // steps' sums added in f32 (up to 16 per lane), that added in f64: a sixteenth of the
      // conversions, each lane's f32 part within about 2.5e-7 of its exact sum (relative to
      // the sum, which is what softmax's scaling needs).
      partial = f32x4.add(partial, f32x4.add(f32x4.add(ea, eb), f32x4.add(ec, ed)));
      if ((i & 48) == 48) {
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(partial));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(partial, partial, 2, 3, 2, 3)));
        partial = f32x4.splat(0);
      }
    }
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(partial));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(partial, partial, 2, 3, 2, 3)));
    partial = f32x4.splat(0);
    if (i + 16 > n) break;
    for (const end = i + 16; i < end; i += 4) {
      const e = expV(f32x4.sub(v128.load(x + at(i)), vshift));
      if (keep) v128.store(out + at(i), e);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(e));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 2, 3)));
    }
  }
  for (; i + 4 <= n; i += 4) {
    const e = expV(f32x4.sub(v128.load(x + at(i)), vshift));
    if (keep) v128.store(out + at(i), e);
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(e));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 2, 3)));
  }
  const s = f64x2.add(s0, s1);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

// logf (Cephes): x = m 2^e, m in [sqrt(1/2), sqrt(2)), degree-8 polynomial in f = m - 1.
const FLT_MIN_NORMAL = memory.data<f32>([1.17549435e-38]);
const TWO_POW_23 = memory.data<f32>([8388608.0]);
const LOG_SUBNORMAL_SHIFT = memory.data<i32>([23]);
const LOG_EXP_BIAS = memory.data<i32>([126]);
const MANTISSA_MASK = memory.data<i32>([0x007fffff]);
const HALF_EXPONENT = memory.data<i32>([0x3f000000]);
const SQRT_HALF = memory.data<f32>([0.707106781186547524]);
const LOG_P0 = memory.data<f32>([7.0376836292e-2]);
const LOG_P1 = memory.data<f32>([-1.1514610310e-1]);
const LOG_P2 = memory.data<f32>([1.1676998740e-1]);
const LOG_P3 = memory.data<f32>([-1.2420140846e-1]);
const LOG_P4 = memory.data<f32>([1.4249322787e-1]);
const LOG_P5 = memory.data<f32>([-1.6668057665e-1]);
const LOG_P6 = memory.data<f32>([2.0000714765e-1]);
const LOG_P7 = memory.data<f32>([-2.4999993993e-1]);
const LOG_P8 = memory.data<f32>([3.3333331174e-1]);

/**
 * ln x on 4 lanes (Cephes logf): x = m 2^e with m in [sqrt(1/2), sqrt(2)), f = m - 1,
 * ln x = f - f^2/2 + f^3 P(f) + e ln 2 with a degree-8 P; measured max relative error
 * 7.8e-8. Subnormals are rescaled by 2^23 first; 0 -> -Infinity, negative and NaN -> NaN,
 * +Infinity -> +Infinity, as Math.log.
 */
// @ts-ignore: decorator
@inline function logV(x: v128): v128 {
  const subnormal = f32x4.lt(x, splatAt(FLT_MIN_NORMAL));
  const bits = v128.bitselect(f32x4.mul(x, splatAt(TWO_POW_23)), x, subnormal);
  // e such that m = mantissa with exponent 2^-1 lies in [0.5, 1)
  let e = i32x4.sub(i32x4.shr_u(bits, 23), splatAt(LOG_EXP_BIAS));
  e = i32x4.sub(e, v128.and(subnormal, splatAt(LOG_SUBNORMAL_SHIFT)));
  const m = v128.or(v128.and(bits, splatAt(MANTISSA_MASK)), splatAt(HALF_EXPONENT));
  // m < sqrt(1/2): use 2m and e - 1 (the mask is -1 in those lanes)
  const low = f32x4.lt(m, splatAt(SQRT_HALF));
  e = i32x4.add(e, low);
  const f = f32x4.add(f32x4.sub(m, splatAt(ONE)), v128.and(low, m));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(f, f);
  let p = mulAdd(splatAt(LOG_P0), f, splatAt(LOG_P1));
  p = mulAdd(p, f, splatAt(LOG_P2));
  p = mulAdd(p, f, splatAt(LOG_P3));
  p = mulAdd(p, f, splatAt(LOG_P4));
  p = mulAdd(p, f, splatAt(LOG_P5));
  p = mulAdd(p, f, splatAt(LOG_P6));
  p = mulAdd(p, f, splatAt(LOG_P7));
  p = mulAdd(p, f, splatAt(LOG_P8));
  let y = f32x4.mul(f32x4.mul(p, f), z);
  y = mulAdd(ef, splatAt(LN2_LO), y);
  y = f32x4.sub(y, f32x4.mul(splatAt(HALF), z));
  let result = f32x4.add(f, y);
  result = mulAdd(ef, splatAt(LN2_HI), result);
  const inf = splatAt(INFINITY);
  const regular = v128.and(f32x4.gt(x, f32x4.splat(0)), f32x4.lt(x, inf));
  const special = v128.bitselect(splatAt(MINUS_INFINITY), v128.bitselect(inf, splatAt(QUIET_NAN), f32x4.eq(x, inf)),
    f32x4.eq(x, f32x4.splat(0)));
  return v128.bitselect(result, special, regular);
}

/** log1p(u) for u in [0, 1]: ln(w) u / (w - 1) with w = 1 + u (Goldberg's correction; w - 1 is exact). */
// @ts-ignore: decorator
@inline function log1pUnitV(u: v128): v128 {
  const one = splatAt(ONE);
  const w = f32x4.add(one, u);
  const corrected = f32x4.mul(logV(w), f32x4.div(u, f32x4.sub(w, one)));
  return v128.bitselect(u, corrected, f32x4.eq(w, one));
}

/** e^-|x|, the argument of every stable formula below. */
// @ts-ignore: decorator
@inline function expMinusAbsV(x: v128): v128 {
  return expV(v128.or(x, splatAt(SIGN_BIT)));
}

/**
 * sigmoid's numerator: 1 where x >= 0, else u = e^-|x| (<= 1); as max(u, 1 or 0), two
 * instructions fewer than a select. A NaN u stays NaN (pmax keeps its first operand).
 */
// @ts-ignore: decorator
@inline function sigmoidNumerator(x: v128, u: v128, one: v128): v128 {
  return f32x4.pmax(u, v128.and(f32x4.ge(x, f32x4.splat(0)), one));
}

// @ts-ignore: decorator
@inline function sigmoidV(x: v128): v128 {
  const one = splatAt(ONE);
  const u = expMinusAbsV(x);
  return f32x4.div(sigmoidNumerator(x, u, one), f32x4.add(one, u));
}

/** sigmoid'(x) = u / (1 + u)^2 with u = e^-|x|. */
// @ts-ignore: decorator
@inline function sigmoidSlopeV(x: v128): v128 {
  const u = expMinusAbsV(x);
  const d = f32x4.add(splatAt(ONE), u);
  return f32x4.div(u, f32x4.mul(d, d));
}

// tanh(10) = 1 - 4e-9 rounds to 1 in f32 (tanh(9) does not), so larger |x| need no larger e^2|x|.
const TANH_SATURATE = memory.data<f32>([10.0]);

/**
 * tanh |x| = m / (m + 2) with m = e^2|x| - 1, sign restored. m comes from the exp reduction
 * without its final + 1 (m = 2^n (e^r - 1) + (2^n - 1)), so it keeps full relative accuracy
 * for tiny |x|; |x| is capped at 10, where tanh is 1 in f32, so 2^n stays normal.
 */
// @ts-ignore: decorator
@inline function tanhV(x: v128): v128 {
  const signBit = splatAt(SIGN_BIT);
  // NaN stays NaN through pmin (first operand) and the formula.
  const a = f32x4.pmin(v128.andnot(x, signBit), splatAt(TANH_SATURATE));
  const twoA = f32x4.add(a, a);
  const shifter = splatAt(EXP_SHIFTER);
  const t = mulAdd(twoA, splatAt(LOG2E), shifter);
  const q = expMinusOneReduced(twoA, f32x4.sub(t, shifter));
  const scale = i32x4.shl(t, 23); // 2^n
  const m = mulAdd(scale, q, f32x4.sub(scale, splatAt(ONE)));
  const magnitude = f32x4.div(m, f32x4.add(m, splatAt(TWO)));
  return v128.or(magnitude, v128.and(x, signBit));
}

/** tanh'(x) = 1 - tanh^2 x = 4u / (1 + u)^2 with u = e^-2|x| (no cancellation for large |x|). */
// @ts-ignore: decorator
@inline function tanhSlopeV(x: v128): v128 {
  const negative = v128.or(x, splatAt(SIGN_BIT));
  const u = expV(f32x4.add(negative, negative));
  const d = f32x4.add(splatAt(ONE), u);
  return f32x4.div(f32x4.mul(splatAt(FOUR), u), f32x4.mul(d, d));
}

// @ts-ignore: decorator
@inline function softplusV(x: v128): v128 {
  // pmax keeps a NaN first operand.
  return f32x4.add(f32x4.pmax(x, f32x4.splat(0)), log1pUnitV(expMinusAbsV(x)));
}

const GELU_A_V = memory.data<f32>([GELU_A]);
const GELU_B_V = memory.data<f32>([GELU_B]);
const GELU_3B_V = memory.data<f32>([3 * GELU_B]);

/** gelu(x) = x sigmoid(2z), 2z = x (GELU_A + GELU_B x^2). */
// @ts-ignore: decorator
@inline function geluV(x: v128): v128 {
  const twoZ = f32x4.mul(x, mulAdd(splatAt(GELU_B_V), f32x4.mul(x, x), splatAt(GELU_A_V)));
  return f32x4.mul(x, sigmoidV(twoZ));
}

/** gelu'(x) = s + x s (1 - s) d(2z)/dx with s = sigmoid(2z), d(2z)/dx = GELU_A + 3 GELU_B x^2. */
// @ts-ignore: decorator
@inline function geluSlopeV(x: v128): v128 {
  const one = splatAt(ONE);
  const x2 = f32x4.mul(x, x);
  const twoZ = f32x4.mul(x, mulAdd(splatAt(GELU_B_V), x2, splatAt(GELU_A_V)));
  const u = expMinusAbsV(twoZ);
  const d = f32x4.add(one, u);
  const s = f32x4.div(v128.bitselect(one, u, f32x4.ge(twoZ, f32x4.splat(0))), d);
  const sSlope = f32x4.div(u, f32x4.mul(d, d));
  const dTwoZ = mulAdd(splatAt(GELU_3B_V), x2, splatAt(GELU_A_V));
  return mulAdd(f32x4.mul(x, sSlope), dTwoZ, s);
}

// ---- scalar math (tail and scalar build) -----------------------------------------------

// @ts-ignore: decorator
@inline function sigmoidS(x: f32): f32 {
  const u = Mathf.exp(-Mathf.abs(x));
  return (x >= 0 ? <f32>1 : u) / (1 + u);
}

// @ts-ignore: decorator
@inline function sigmoidSlopeS(x: f32): f32 {
  const u = Mathf.exp(-Mathf.abs(x));
  const d: f32 = 1 + u;
  return u / (d * d);
}

// @ts-ignore: decorator
@inline function tanhSlopeS(x: f32): f32 {
  const u = Mathf.exp(-2 * Mathf.abs(x));
  const d: f32 = 1 + u;
  return (4 * u) / (d * d);
}

// @ts-ignore: decorator
@inline function softplusS(x: f32): f32 {
  return max<f32>(x, 0) + Mathf.log1p(Mathf.exp(-Mathf.abs(x)));
}

// @ts-ignore: decorator
@inline function geluS(x: f32): f32 {
  return x * sigmoidS(x * (GELU_A + GELU_B * x * x));
}

// @ts-ignore: decorator
@inline function geluSlopeS(x: f32): f32 {
  const x2 = x * x;
  const twoZ = x * (GELU_A + GELU_B * x2);
  return sigmoidS(twoZ) + x * sigmoidSlopeS(twoZ) * (GELU_A + 3 * GELU_B * x2);
}

// ---- exp-based kernels, 16 elements per step ---------------------------------------------------

// What an exp-based kernel computes from x and u = e^(its argument): e^x, sigmoid(x) or
// sigmoid'(x); a compile-time argument of the inlined functions below.
const EXP: i32 = 0;
const SIGMOID: i32 = 1;
const SIGMOID_SLOPE: i32 = 2;

/** The exponent a kind needs: x for e^x, -|x| for the sigmoids. */
// @ts-ignore: decorator
@inline function expArgument(kind: i32, x: v128, sign: v128): v128 {
  return kind == EXP ? x : v128.or(x, sign);
}

/** The kind's value from x and u = e^(expArgument(x)), as sigmoidV and sigmoidSlopeV compute it. */
// @ts-ignore: decorator
@inline function fromExp(kind: i32, x: v128, u: v128, one: v128): v128 {
  if (kind == EXP) return u;
  if (kind == SIGMOID) return f32x4.div(sigmoidNumerator(x, u, one), f32x4.add(one, u));
  const d = f32x4.add(one, u);
  return f32x4.div(u, f32x4.mul(d, d));
}

/** The kind through the general vector functions (lanes outside the normal range). */
// @ts-ignore: decorator
@inline function exactly(kind: i32, x: v128): v128 {
  return kind == EXP ? expV(x) : kind == SIGMOID ? sigmoidV(x) : sigmoidSlopeV(x);
}

/** out = kind(x), times dy when dy != 0, for one vector at byte offset o. */
// @ts-ignore: decorator
@inline function storeKind(value: v128, dy: usize, out: usize, o: usize): void {
  v128.store(out + o, dy != 0 ? f32x4.mul(value, v128.load(dy + o)) : value);
}

/**
 * The whole 16-element steps of an exp-based kernel (returns how many elements it did): the
 * exp constants loaded once into locals, one range test per step; a step with a lane whose
 * exponential is not a normal f32 goes through expV, sigmoidV or sigmoidSlopeV. The same bits
 * as those functions, vector by vector. With dy != 0, out = kind(x) * dy (the gradient kernels).
 */
// @ts-ignore: decorator
@inline function expKernelBlocks(kind: i32, n: i32, x: usize, dy: usize, out: usize): i32 {
  const log2e = splatAt(LOG2E), shifter = splatAt(EXP_SHIFTER), ln2Hi = splatAt(LN2_HI), ln2Lo = splatAt(LN2_LO);
  const q2 = splatAt(EXP_Q2), q3 = splatAt(EXP_Q3), q4 = splatAt(EXP_Q4);
  const q5 = splatAt(EXP_Q5), one = splatAt(ONE), sign = splatAt(SIGN_BIT);
  const lowest = splatAt(EXP_NORMAL_MIN), highest = splatAt(EXP_NORMAL_MAX);
  let i = 0;
  while (i + 16 <= n) {
    // The fast loop: no call and no other path in it, so the constants stay in registers.
    for (; i + 16 <= n; i += 16) {
      const o = at(i);
      const x0 = v128.load(x + o), x1 = v128.load(x + o, 16), x2 = v128.load(x + o, 32), x3 = v128.load(x + o, 48);
      const a0 = expArgument(kind, x0, sign), a1 = expArgument(kind, x1, sign);
      const a2 = expArgument(kind, x2, sign), a3 = expArgument(kind, x3, sign);
      // -|x| <= 0: only the sigmoids' lower bound can be crossed.
      if (anyOutside4(a0, a1, a2, a3, lowest, highest, kind == EXP)) break;
      const u0 = expInRange(a0, log2e, shifter, ln2Hi, ln2Lo, q2, q3, q4, q5, one);
      const u1 = expInRange(a1, log2e, shifter, ln2Hi, ln2Lo, q2, q3, q4, q5, one);
      const u2 = expInRange(a2, log2e, shifter, ln2Hi, ln2Lo, q2, q3, q4, q5, one);
      const u3 = expInRange(a3, log2e, shifter, ln2Hi, ln2Lo, q2, q3, q4, q5, one);
      storeKind(fromExp(kind, x0, u0, one), dy, out, o);
      storeKind(fromExp(kind, x1, u1, one), dy, out, o + 16);
      storeKind(fromExp(kind, x2, u2, one), dy, out, o + 32);
      storeKind(fromExp(kind, x3, u3, one), dy, out, o + 48);
    }
    if (i + 16 > n) break;
    // A step with a lane out of the normal range: the general functions, vector by vector.
    const o = at(i);
    storeKind(exactly(kind, v128.load(x + o)), dy, out, o);
    storeKind(exactly(kind, v128.load(x + o, 16)), dy, out, o + 16);
    storeKind(exactly(kind, v128.load(x + o, 32)), dy, out, o + 32);
    storeKind(exactly(kind, v128.load(x + o, 48)), dy, out, o + 48);
    i += 16;
  }
  return i;
}

// ---- kernels -------------------------------------------------------------------------------

export function relu(n: i32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + at(i));
      v128.store(out + at(i), v128.and(v, f32x4.gt(v, zero)));
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(x + at(i));
    store<f32>(out + at(i), v > 0 ? v : 0);
  }
}

/** dx = dy where x > 0, else 0. */
export function reluGrad(n: i32, x: usize, dy: usize, dx: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      v128.store(dx + at(i), v128.and(v128.load(dy + at(i)), f32x4.gt(v128.load(x + at(i)), zero)));
    }
  }
  for (; i < n; i++) store<f32>(dx + at(i), load<f32>(x + at(i)) > 0 ? load<f32>(dy + at(i)) : 0);
}

export function leakyRelu(n: i32, slope: f32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    const vs = f32x4.splat(slope);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + at(i));
      v128.store(out + at(i), v128.bitselect(v, f32x4.mul(vs, v), f32x4.gt(v, zero)));
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(x + at(i));
    store<f32>(out + at(i), v > 0 ? v : slope * v);
  }
}

export function leakyReluGrad(n: i32, slope: f32, x: usize, dy: usize, dx: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    const vs = f32x4.splat(slope);
    for (; i + 4 <= n; i += 4) {
      const g = v128.load(dy + at(i));
      v128.store(dx + at(i), v128.bitselect(g, f32x4.mul(vs, g), f32x4.gt(v128.load(x + at(i)), zero)));
    }
  }
  for (; i < n; i++) {
    const g = load<f32>(dy + at(i));
    store<f32>(dx + at(i), load<f32>(x + at(i)) > 0 ? g : slope * g);
  }
}

export function tanh(n: i32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), tanhV(v128.load(x + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), Mathf.tanh(load<f32>(x + at(i))));
}

export function tanhGrad(n: i32, x: usize, dy: usize, dx: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      v128.store(dx + at(i), f32x4.mul(tanhSlopeV(v128.load(x + at(i))), v128.load(dy + at(i))));
    }
  }
  for (; i < n; i++) store<f32>(dx + at(i), tanhSlopeS(load<f32>(x + at(i))) * load<f32>(dy + at(i)));
}

export function sigmoid(n: i32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    i = expKernelBlocks(SIGMOID, n, x, 0, out);
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), sigmoidV(v128.load(x + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), sigmoidS(load<f32>(x + at(i))));
}

export function sigmoidGrad(n: i32, x: usize, dy: usize, dx: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    i = expKernelBlocks(SIGMOID_SLOPE, n, x, dy, dx);
    for (; i + 4 <= n; i += 4) {
      v128.store(dx + at(i), f32x4.mul(sigmoidSlopeV(v128.load(x + at(i))), v128.load(dy + at(i))));
    }
  }
  for (; i < n; i++) store<f32>(dx + at(i), sigmoidSlopeS(load<f32>(x + at(i))) * load<f32>(dy + at(i)));
}

export function softplus(n: i32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), softplusV(v128.load(x + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), softplusS(load<f32>(x + at(i))));
}

/** softplus'(x) = sigmoid(x). */
export function softplusGrad(n: i32, x: usize, dy: usize, dx: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      v128.store(dx + at(i), f32x4.mul(sigmoidV(v128.load(x + at(i))), v128.load(dy + at(i))));
    }
  }
  for (; i < n; i++) store<f32>(dx + at(i), sigmoidS(load<f32>(x + at(i))) * load<f32>(dy + at(i)));
}

export function gelu(n: i32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), geluV(v128.load(x + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), geluS(load<f32>(x + at(i))));
}

export function geluGrad(n: i32, x: usize, dy: usize, dx: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      v128.store(dx + at(i), f32x4.mul(geluSlopeV(v128.load(x + at(i))), v128.load(dy + at(i))));
    }
  }
  for (; i < n; i++) store<f32>(dx + at(i), geluSlopeS(load<f32>(x + at(i))) * load<f32>(dy + at(i)));
}

export function exp(n: i32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    i = expKernelBlocks(EXP, n, x, 0, out);
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), expV(v128.load(x + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), Mathf.exp(load<f32>(x + at(i))));
}

export function expGrad(n: i32, x: usize, dy: usize, dx: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    i = expKernelBlocks(EXP, n, x, dy, dx);
    for (; i + 4 <= n; i += 4) {
      v128.store(dx + at(i), f32x4.mul(expV(v128.load(x + at(i))), v128.load(dy + at(i))));
    }
  }
  for (; i < n; i++) store<f32>(dx + at(i), Mathf.exp(load<f32>(x + at(i))) * load<f32>(dy + at(i)));
}

export function log(n: i32, x: usize, out: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(out + at(i), logV(v128.load(x + at(i))));
  }
  for (; i < n; i++) store<f32>(out + at(i), Mathf.log(load<f32>(x + at(i))));
}

/** log'(x) = 1 / x. */
export function logGrad(n: i32, x: usize, dy: usize, dx: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(dx + at(i), f32x4.div(v128.load(dy + at(i)), v128.load(x + at(i))));
  }
  for (; i < n; i++) store<f32>(dx + at(i), load<f32>(dy + at(i)) / load<f32>(x + at(i)));
}
