#!/usr/bin/env node
// The pcgraph command: the compiled CLI in dist/ (plain JavaScript; no TypeScript loader).
// In a clone, `npm install` builds dist/ (or run `npm run build`).
let cli;
try {
  cli = await import("../dist/cli/main.js");
} catch (error) {
  if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist")) {
    console.error("pcgraph: the compiled CLI (dist/cli/main.js) is missing: run `npm run build` in the pcgraph checkout");
    process.exit(1);
  }
  throw error;
}
process.exitCode = await cli.runCli(process.argv.slice(2));
