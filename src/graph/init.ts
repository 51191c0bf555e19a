// Parameter initialisers, drawn from a seeded generator.
import { Random } from "../random.js";
import type { Initializer } from "./op.js";

export function initialValues(init: Initializer, size: number, random: Random): Float64Array {
  const out = new Float64Array(size);
  switch (init.kind) {
    case "zeros":
      break;
    case "constant":
      out.fill(init.value);
      break;
    case "uniform":
      for (let i = 0; i < size; i++) out[i] = random.uniform(init.low, init.high);
      break;
    case "normal":
      for (let i = 0; i < size; i++) out[i] = init.std * random.normal();
      break;
    case "glorotUniform": {
      const limit = Math.sqrt(6 / (init.fanIn + init.fanOut));
      for (let i = 0; i < size; i++) out[i] = random.uniform(-limit, limit);
      break;
    }
    case "heNormal": {
      const std = Math.sqrt(2 / init.fanIn);
      for (let i = 0; i < size; i++) out[i] = std * random.normal();
      break;
    }
    case "heUniform": {
      const limit = Math.sqrt(6 / init.fanIn);
      for (let i = 0; i < size; i++) out[i] = random.uniform(-limit, limit);
      break;
    }
  }
  return out;
}
