// The exp kernels' polynomial (assembly/kernels/activations.ts, EXP_Q2..EXP_Q5):
// e^r ~ 1 + r + r^2 Q(r) on [-ln2/2, ln2/2] with Q of degree `node scripts/fit-exp-polynomial.mjs
// [count]` - 1 (default 4 coefficients), minimising the largest relative error
// |1 + r + r^2 Q(r) - e^r| / e^r. The linear coefficient is held at exactly 1: the kernel then
// adds r to 1 where a free coefficient costs a multiplication (and a register), for an error
// about 15% larger (`--free-linear` fits it too, for comparison).
// Lawson's algorithm: weighted least squares on a fine grid, each weight multiplied by its
// point's error every iteration, converges to the minimax fit. Prints the coefficients rounded
// to f32, then the largest relative error of the whole f32 exp (n = round(x / ln 2), r in two
// parts, the polynomial in Estrin's form, 2^n by exponent shift) against Math.exp over a sweep
// of [-87.3, 88.3].
const freeLinear = process.argv.includes("--free-linear");
const counted = process.argv.slice(2).find((a) => !a.startsWith("--"));
const coefficients = Number(counted ?? (freeLinear ? 5 : 4));
// The first fitted power: r^1 with a free linear coefficient, else r^2.
const firstPower = freeLinear ? 1 : 2;
const half = Math.LN2 / 2;
const POINTS = 4001;
const grid = Array.from({ length: POINTS }, (_, i) => -half + (2 * half * i) / (POINTS - 1));
// Relative error is linear in the coefficients: (1 [+ r] + sum c_k r^k - e^r) / e^r.
const design = grid.map((r) => Array.from({ length: coefficients }, (_, k) => r ** (k + firstPower) / Math.exp(r)));
const target = grid.map((r) => (Math.exp(r) - 1 - (freeLinear ? 0 : r)) / Math.exp(r));

/** Solves the weighted normal equations by Gaussian elimination with partial pivoting. */
function weightedLeastSquares(weights) {
  const n = coefficients;
  const normal = Array.from({ length: n }, () => new Array(n).fill(0));
  const rhs = new Array(n).fill(0);
  for (let i = 0; i < POINTS; i++) {
    for (let j = 0; j < n; j++) {
      rhs[j] += weights[i] * design[i][j] * target[i];
      for (let k = 0; k < n; k++) normal[j][k] += weights[i] * design[i][j] * design[i][k];
    }
  }
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(normal[r][c]) > Math.abs(normal[pivot][c])) pivot = r;
    [normal[c], normal[pivot]] = [normal[pivot], normal[c]];
    [rhs[c], rhs[pivot]] = [rhs[pivot], rhs[c]];
    for (let r = c + 1; r < n; r++) {
      const f = normal[r][c] / normal[c][c];
      for (let k = c; k < n; k++) normal[r][k] -= f * normal[c][k];
      rhs[r] -= f * rhs[c];
    }
  }
  const solution = new Array(n).fill(0);
  for (let c = n - 1; c >= 0; c--) {
    let s = rhs[c];
    for (let k = c + 1; k < n; k++) s -= normal[c][k] * solution[k];
    solution[c] = s / normal[c][c];
  }
  return solution;
}

const errorsOf = (c) => design.map((row, i) => Math.abs(row.reduce((s, a, k) => s + a * c[k], 0) - target[i]));
let weights = new Array(POINTS).fill(1 / POINTS);
let fit = weightedLeastSquares(weights);
for (let iteration = 0; iteration < 3000; iteration++) {
  const errors = errorsOf(fit);
  const next = weights.map((w, i) => w * errors[i]);
  const total = next.reduce((s, v) => s + v, 0);
  weights = next.map((v) => v / total);
  fit = weightedLeastSquares(weights);
}
const q = fit.map((v) => Math.fround(v));
console.log(`Q coefficients (f32): ${q.map((v) => String(v)).join(", ")}`);
console.log(`largest relative error of the fit in exact arithmetic: ${Math.max(...errorsOf(fit)).toExponential(2)}`);

// The f32 kernel, operation by operation (every wasm f32x4 operation rounds to nearest).
const f = Math.fround;
const LOG2E = f(Math.LOG2E), SHIFTER = f(12583039), LN2_HI = f(0.693359375), LN2_LO = f(-2.1219444e-4);
const bits = new DataView(new ArrayBuffer(4));
/** Round half to even (f32x4.nearest). */
function nearest(v) {
  const down = Math.floor(v);
  const rest = v - down;
  return rest > 0.5 || (rest === 0.5 && down % 2 !== 0) ? down + 1 : down;
}
function expF32(x) {
  const n = nearest(f(x * LOG2E));
  bits.setFloat32(0, f(n + SHIFTER));
  bits.setInt32(0, bits.getInt32(0) << 23);
  const scale = bits.getFloat32(0);
  const r = f(f(x - f(n * LN2_HI)) - f(n * LN2_LO));
  // 1 + c1 r + ... in Estrin's form: pairs (c_2j + c_2j+1 r), then Horner in r^2 over the pairs;
  // with c1 = 1 the first pair is 1 + r, one addition.
  const c = freeLinear ? [1, ...q] : [1, 1, ...q];
  const pairs = [];
  for (let k = 0; k < c.length; k += 2) {
    if (k + 1 >= c.length) pairs.push(c[k]);
    else pairs.push(k === 0 && !freeLinear ? f(r + 1) : f(f(c[k + 1] * r) + c[k]));
  }
  const r2 = f(r * r);
  let p = pairs[pairs.length - 1];
  for (let k = pairs.length - 2; k >= 0; k--) p = f(f(p * r2) + pairs[k]);
  return f(p * scale);
}
let worst = 0;
const SWEEP = 1 << 22;
for (let i = 0; i < SWEEP; i++) {
  const x = f(-87.3 + (175.6 * i) / SWEEP);
  worst = Math.max(worst, Math.abs(expF32(x) - Math.exp(x)) / Math.exp(x));
}
console.log(`largest relative error of the f32 exp on [-87.3, 88.3]: ${worst.toExponential(2)}`);
