import { suite } from "uvu";
import fc from "fast-check";
import { getBackendByName } from "../../src/backend/load.js";
import { awkwardSize, randomArray, seed } from "../arbitraries.js";
import { assertClose, reference, runKernel, wasmBackends } from "../util/backends.js";

const adam = suite("optimizer kernels");

// Tolerance: one f32 Adam update of parameters ~1 in magnitude; relative 1e-5 of the
// step size plus 1e-6 absolute covers rounding in sqrt and the divisions.
adam("adamStep equals the float64 reference over several steps, for every length", () => {
  fc.assert(
    fc.property(awkwardSize(300), seed, fc.integer({ min: 1, max: 5 }), (n, s, steps) => {
      const inputs = { param: randomArray(n, s), m: new Float64Array(n), v: new Float64Array(n) };
      const grads = Array.from({ length: steps }, (_, t) => randomArray(n, s + 17 * (t + 1), 2));
      const run = (name: string) => {
        const b = name === "reference-f64" ? reference() : getBackendByName(name as "wasm-simd");
        return runKernel(b, { ...grads.map((g, t) => [`g${t}`, g]).reduce((o, [k, v]) => ({ ...o, [k as string]: v }), {}) },
          { param: inputs.param, m: inputs.m, v: inputs.v }, (k, a) => {
            for (let t = 1; t <= steps; t++)
              k.adamStep(n, 0.01, 0.9, 0.999, 1e-8, 1 - 0.9 ** t, 1 - 0.999 ** t, a.param, a[`g${t - 1}`], a.m, a.v);
          }).outputs;
      };
      const expected = run("reference-f64");
      for (const name of wasmBackends) {
        const actual = run(name);
        assertClose(`${name} param`, actual.param, expected.param, 1e-5, 1e-6);
        assertClose(`${name} m`, actual.m, expected.m, 1e-5, 1e-6);
        assertClose(`${name} v`, actual.v, expected.v, 1e-5, 1e-6);
      }
    }),
    { numRuns: 60 },
  );
});

adam.run();
