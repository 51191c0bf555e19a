// The Predify config (Choksi et al. 2021, arXiv 2106.02749): which layers become "pcoders",
// what each one's feedback decoder is, and the update rates. One structure in TypeScript and
// in JSON; `predifyConfigSchema` is its JSON Schema, and every config, whether parsed from
// text or given as an object, is checked against it by `checkPredifyConfig`, which throws a
// PredifyConfigError naming the field at fault (e.g. `pcoders[1].decoder.kernelSize`).
import { PcgraphError } from "../backend/errors.js";
import { activationNames, type ActivationName } from "../graph/ops/activation.js";
import { checkAgainstSchema, type JsonSchema } from "../json-schema.js";
import { JsonSyntaxError, parseJsonWithPositions, type PositionedJson } from "../json-text.js";

/** A size per spatial axis: one number for both, or [height, width]. */
export type SizePair = number | [number, number];

/** A transposed convolution; its output channels are the target's. Omitted strides and padding are fitted to the target's size. */
export interface ConvTransposeDecoderConfig {
  kind: "conv2dTranspose";
  kernelSize: SizePair;
  strides?: SizePair;
  padding?: SizePair;
  outputPadding?: SizePair;
  dilation?: SizePair;
  useBias?: boolean;
  /** Applied after the transposed convolution (the reference uses relu for non-negative targets). */
  activation?: ActivationName;
}

/** A dense layer onto the target's values (flattened); its units are the target's size. */
export interface DenseDecoderConfig {
  kind: "dense";
  useBias?: boolean;
  activation?: ActivationName;
}

/** A pcoder's decoder: a transposed convolution or a dense layer. */
export type DecoderConfig = ConvTransposeDecoderConfig | DenseDecoderConfig;

/** One pcoder in a Predify config: the node it reads, its decoder's target and shape, its rates. */
export interface PcoderConfig {
  /** Names the decoder's nodes and the pcoder in reports (default "pcoder<i+1>"). */
  name?: string;
  /** The node whose output is this pcoder's representation r. */
  node: string;
  /** The node below whose output the decoder predicts from r (an input, or an earlier node). */
  target: string;
  decoder: DecoderConfig;
  /** Override the shared rates for this pcoder. */
  beta?: number;
  lambda?: number;
  alpha?: number;
}

/** A Predify config (JSON; schema in docs/predify-config.schema.json): the pcoders and the default rates. */
export interface PredifyConfig {
  pcoders: PcoderConfig[];
  /** Feedforward weight beta (default 0.8). */
  beta?: number;
  /** Feedback weight lambda (default 0.1); pcoders that no decoder predicts take 0. */
  lambda?: number;
  /** Error-gradient rate alpha (default 0.01). */
  alpha?: number;
  /** Time steps after the feedforward step 0 (default 10). */
  steps?: number;
  /** Seed of the decoders' initial weights (default 0). */
  seed?: number;
}

/** The rates of the paper's experiments, and its 10 time steps. */
export const predifyDefaults = { beta: 0.8, lambda: 0.1, alpha: 0.01, steps: 10, seed: 0 } as const;

/** A config that does not fit the schema or the graph; `field` is its path, e.g. "pcoders[0].beta". */
export class PredifyConfigError extends PcgraphError {
  constructor(readonly field: string, readonly problem: string, readonly source?: string) {
    super(`predify config${source ? ` ${source}` : ""}: ${field ? `${field}: ` : ""}${problem}`);
  }
}

const sizePair = (minimum: number): JsonSchema => ({
  description: `an integer >= ${minimum} or a pair of them`,
  anyOf: [
    { type: "integer", minimum },
    { type: "array", items: { type: "integer", minimum }, minItems: 2, maxItems: 2 },
  ],
});
const rate: JsonSchema = { type: "number", minimum: 0, maximum: 1 };
const activation: JsonSchema = { enum: [...activationNames] };

/** The JSON Schema every Predify config is checked against (also written to docs/predify-config.schema.json). */
export const predifyConfigSchema: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "pcgraph Predify config",
  type: "object",
  required: ["pcoders"],
  additionalProperties: false,
  properties: {
    $schema: { type: "string" },
    beta: rate,
    lambda: rate,
    alpha: { type: "number", minimum: 0 },
    steps: { type: "integer", minimum: 0 },
    seed: { type: "integer" },
    pcoders: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["node", "target", "decoder"],
        additionalProperties: false,
        properties: {
          name: { type: "string", minLength: 1 },
          node: { type: "string", minLength: 1 },
          target: { type: "string", minLength: 1 },
          beta: rate,
          lambda: rate,
          alpha: { type: "number", minimum: 0 },
          decoder: {
            oneOf: [
              {
                type: "object",
                required: ["kind", "kernelSize"],
                additionalProperties: false,
                properties: {
                  kind: { const: "conv2dTranspose" },
                  kernelSize: sizePair(1),
                  strides: sizePair(1),
                  padding: sizePair(0),
                  outputPadding: sizePair(0),
                  dilation: sizePair(1),
                  useBias: { type: "boolean" },
                  activation,
                },
              },
              {
                type: "object",
                required: ["kind"],
                additionalProperties: false,
                properties: { kind: { const: "dense" }, useBias: { type: "boolean" }, activation },
              },
            ],
          },
        },
      },
    },
  },
};

/** Rates of one pcoder after defaults and overrides. */
export interface PcoderRates {
  beta: number;
  lambda: number;
  alpha: number;
}

/** The rates of pcoder i: its own, else the shared ones, else the defaults. */
export function pcoderRates(config: PredifyConfig, i: number): PcoderRates {
  const p = config.pcoders[i];
  return {
    beta: p.beta ?? config.beta ?? predifyDefaults.beta,
    lambda: p.lambda ?? config.lambda ?? predifyDefaults.lambda,
    alpha: p.alpha ?? config.alpha ?? predifyDefaults.alpha,
  };
}

/**
 * Checks a config against the schema and the rules the schema cannot state (beta + lambda
 * <= 1, so the memory weight 1 - beta - lambda is not negative; unique names and nodes).
 * Returns a deep copy. `source` (a file name) goes into error messages.
 */
export function checkPredifyConfig(value: unknown, source?: string): PredifyConfig {
  const problem = checkAgainstSchema(predifyConfigSchema, value);
  if (problem) throw new PredifyConfigError(problem.path, problem.message, source);
  const config = structuredClone(value) as PredifyConfig;
  const shared = (config.beta ?? predifyDefaults.beta) + (config.lambda ?? predifyDefaults.lambda);
  if (shared > 1)
    throw new PredifyConfigError(config.lambda !== undefined ? "lambda" : "beta",
      `beta + lambda = ${shared} exceeds 1 (the memory weight 1 - beta - lambda would be negative)`, source);
  const names = new Set<string>();
  const nodes = new Set<string>();
  config.pcoders.forEach((p, i) => {
    const { beta, lambda } = pcoderRates(config, i);
    if (beta + lambda > 1)
      throw new PredifyConfigError(`pcoders[${i}].${p.lambda !== undefined ? "lambda" : "beta"}`,
        `beta + lambda = ${beta + lambda} exceeds 1 (the memory weight 1 - beta - lambda would be negative)`, source);
    const name = pcoderName(config, i);
    if (names.has(name)) throw new PredifyConfigError(`pcoders[${i}].name`, `"${name}" names two pcoders`, source);
    names.add(name);
    if (nodes.has(p.node)) throw new PredifyConfigError(`pcoders[${i}].node`, `node "${p.node}" has two pcoders`, source);
    nodes.add(p.node);
    if (p.node === p.target) throw new PredifyConfigError(`pcoders[${i}].target`, `a pcoder cannot predict its own node "${p.node}"`, source);
  });
  return config;
}

export function pcoderName(config: PredifyConfig, i: number): string {
  return config.pcoders[i].name ?? `pcoder${i + 1}`;
}

/**
 * Parses JSON text (e.g. a file's) and checks it. Errors carry `source:line:column`: where a
 * syntax error is, or where the offending field (or the object missing it) is written.
 */
export function parsePredifyConfig(text: string, source = "<config>"): PredifyConfig {
  let parsed: PositionedJson;
  try {
    parsed = parseJsonWithPositions(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    throw new PredifyConfigError("", `not valid JSON: ${error.message}`, `${source}:${error.position.line}:${error.position.column}`);
  }
  try {
    return checkPredifyConfig(parsed.value);
  } catch (error) {
    if (!(error instanceof PredifyConfigError)) throw error;
    const at = parsed.positionOf(error.field);
    throw new PredifyConfigError(error.field, error.problem, `${source}:${at.line}:${at.column}`);
  }
}
