// Graph-level errors name the node (and op) at fault.
import { PcgraphError, ShapeError } from "../backend/errors.js";

/** A graph that cannot be built: unknown parent, duplicate name, cycle, no output, bad attributes. */
export class GraphError extends PcgraphError {
  constructor(readonly node: string | undefined, message: string) {
    super(node === undefined ? message : `node "${node}": ${message}`);
  }

  /** Re-throws an op's error with the node's name in front; shape errors stay ShapeErrors. */
  static wrap(node: string, kind: string, error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ShapeError) return new ShapeError(`node "${node}" (${kind}): ${message}`);
    return new GraphError(node, `${kind}: ${message}`);
  }
}

/** A serialised graph or weights file that is truncated, of another version, or does not match. */
export class SerializationError extends PcgraphError {}
