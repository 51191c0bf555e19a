// A checker for the subset of JSON Schema (draft 2020-12) that pcgraph's config schemas use:
// type, const, enum, minimum, maximum, minLength, minItems, maxItems, items, properties,
// required, additionalProperties: false, anyOf and oneOf. It reports the first problem
// with the path of the value at fault (`pcoders[1].decoder.kernelSize`), which is what a
// typed config error names. Numbers must be finite (JSON has no NaN or Infinity).

/** The subset of JSON Schema (2020-12) that `checkAgainstSchema` understands. */
export interface JsonSchema {
  $schema?: string;
  title?: string;
  /** What a valid value is, in words: the message when anyOf fails. */
  description?: string;
  type?: "object" | "array" | "string" | "number" | "integer" | "boolean";
  const?: unknown;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: false;
  anyOf?: readonly JsonSchema[];
  /** Branches told apart by a property with `const` (e.g. `kind`): the matching branch's problem is reported. */
  oneOf?: readonly JsonSchema[];
}

/** One way a value breaks its schema: where, and what is wrong. */
export interface SchemaProblem {
  /** Where: "" for the root, else e.g. "pcoders[0].beta". */
  path: string;
  message: string;
}

const describe = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(value) ?? String(value));

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function typeMatches(type: NonNullable<JsonSchema["type"]>, value: unknown): boolean {
  switch (type) {
    case "object": return typeof value === "object" && value !== null && !Array.isArray(value);
    case "array": return Array.isArray(value);
    case "string": return typeof value === "string";
    case "number": return typeof value === "number" && Number.isFinite(value);
    case "integer": return typeof value === "number" && Number.isInteger(value);
    case "boolean": return typeof value === "boolean";
  }
}

const article = (type: string) => (/^[aeiou]/.test(type) ? "an" : "a");

/** The first problem of `value` under `schema`, or null when it conforms. */
export function checkAgainstSchema(schema: JsonSchema, value: unknown, path = ""): SchemaProblem | null {
  const fail = (message: string): SchemaProblem => ({ path, message });
  if (schema.type && !typeMatches(schema.type, value)) return fail(`must be ${article(schema.type)} ${schema.type}, got ${describe(value)}`);
  if ("const" in schema && value !== schema.const) return fail(`must be ${describe(schema.const)}, got ${describe(value)}`);
  if (schema.enum && !schema.enum.includes(value))
    return fail(`must be one of ${schema.enum.map(describe).join(", ")}, got ${describe(value)}`);
  if (typeof value === "number") {
    if (schema.minimum !== undefined && !(value >= schema.minimum)) return fail(`must be >= ${schema.minimum}, got ${value}`);
    if (schema.maximum !== undefined && !(value <= schema.maximum)) return fail(`must be <= ${schema.maximum}, got ${value}`);
  }
  if (typeof value === "string" && schema.minLength !== undefined && value.length < schema.minLength)
    return fail(`must have at least ${schema.minLength} character${schema.minLength === 1 ? "" : "s"}`);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return fail(`must have at least ${schema.minItems} item${schema.minItems === 1 ? "" : "s"}, got ${value.length}`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return fail(`must have at most ${schema.maxItems} items, got ${value.length}`);
    if (schema.items)
      for (let i = 0; i < value.length; i++) {
        const problem = checkAgainstSchema(schema.items, value[i], join(path, i));
        if (problem) return problem;
      }
  }
  if (typeMatches("object", value)) {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? [])
      if (!Object.hasOwn(object, key) || object[key] === undefined) return { path: join(path, key), message: "is required" };
    for (const [key, child] of Object.entries(object)) {
      const sub = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
      if (!sub) {
        if (schema.additionalProperties === false) {
          const known = Object.keys(schema.properties ?? {}).filter((k) => k !== "$schema");
          return { path: join(path, key), message: `is not a known field (known: ${known.join(", ")})` };
        }
        continue;
      }
      if (child === undefined) continue; // an omitted optional field, as TypeScript objects write it
      const problem = checkAgainstSchema(sub, child, join(path, key));
      if (problem) return problem;
    }
  }
  if (schema.anyOf && !schema.anyOf.some((branch) => checkAgainstSchema(branch, value, path) === null))
    return fail(`must be ${schema.description ?? "one of the allowed forms"}, got ${describe(value)}`);
  if (schema.oneOf) {
    const problems = schema.oneOf.map((branch) => checkAgainstSchema(branch, value, path));
    const passing = problems.filter((p) => p === null).length;
    if (passing === 1) return null;
    if (passing > 1) return fail("matches more than one of the allowed forms");
    // The branch whose discriminating constant the value carries explains the problem best.
    const discriminators = schema.oneOf.map((branch) => Object.entries(branch.properties ?? {}).find(([, s]) => "const" in s));
    const object = typeMatches("object", value) ? (value as Record<string, unknown>) : null;
    const chosen = discriminators.findIndex((d) => d && object && object[d[0]] === d[1].const);
    if (chosen >= 0) return problems[chosen];
    const key = discriminators.find((d) => d)?.[0];
    if (key && object)
      return { path: join(path, key), message: `must be one of ${discriminators.map((d) => describe(d?.[1].const)).join(", ")}, got ${describe(object[key])}` };
    return problems[0];
  }
  return null;
}
