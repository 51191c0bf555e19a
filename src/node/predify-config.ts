// Node-only: reading a Predify config file (JSON; see src/pc/predify-config.ts and
// docs/predify-config.schema.json). Errors name the file, and the line and column of a
// syntax error.
import { readFileSync } from "node:fs";
import { parsePredifyConfig, PredifyConfigError, type PredifyConfig } from "../pc/predify-config.js";

/** Reads and checks a Predify config file; errors name the file, line and column. */
export function readPredifyConfig(path: string): PredifyConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new PredifyConfigError("", `cannot read the file: ${(error as Error).message}`, path);
  }
  return parsePredifyConfig(text, path);
}
