// Reference activations in float64: each forward rule beside its derivative f'(x).
// These are the definitions every other backend is tested against.

export interface ScalarActivation {
  forward(x: number): number;
  derivative(x: number): number;
}

const GELU_C = Math.sqrt(2 / Math.PI);

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export const activations = {
  relu: { forward: (x) => (x > 0 ? x : 0), derivative: (x) => (x > 0 ? 1 : 0) },
  tanh: { forward: Math.tanh, derivative: (x) => 1 - Math.tanh(x) ** 2 },
  sigmoid: { forward: sigmoid, derivative: (x) => sigmoid(x) * (1 - sigmoid(x)) },
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
  softplus: { forward: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), derivative: sigmoid },
  // GELU, tanh form (Hendrycks & Gimpel 2016, eq. for the fast approximation).
  gelu: {
    forward: (x) => 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x ** 3))),
    derivative: (x) => {
      const inner = GELU_C * (x + 0.044715 * x ** 3);
      const t = Math.tanh(inner);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x);
    },
  },
  exp: { forward: Math.exp, derivative: Math.exp },
  log: { forward: Math.log, derivative: (x) => 1 / x },
} satisfies Record<string, ScalarActivation>;

export function leakyRelu(slope: number): ScalarActivation {
  return { forward: (x) => (x > 0 ? x : slope * x), derivative: (x) => (x > 0 ? 1 : slope) };
}
