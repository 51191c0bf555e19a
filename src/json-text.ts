// Strict JSON (RFC 8259) parsed with the position of every value, so that errors in a config
// file can point at a line and column: a syntax error where it occurs, and a value that
// breaks a schema where it is written. Paths are written as the schema checker writes them
// ("pcoders[1].decoder.kernelSize"; "" is the root).

/** A position in JSON text. */
export interface JsonPosition {
  /** 1-based. */
  line: number;
  column: number;
}

/** JSON text that does not parse, with the line and column of the fault. */
export class JsonSyntaxError extends Error {
  constructor(message: string, readonly position: JsonPosition) {
    super(message);
    this.name = "JsonSyntaxError";
  }
}

/** Parsed JSON that can say where each value was written. */
export interface PositionedJson {
  value: unknown;
  /** Where the value at `path` starts, or its nearest written ancestor's when it is absent. */
  positionOf(path: string): JsonPosition;
}

function positionAt(text: string, offset: number): JsonPosition {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++)
    if (text[i] === "\n") {
      line++;
      start = i + 1;
    }
  return { line, column: offset - start + 1 };
}

/** Parses JSON like JSON.parse and remembers where every value starts, for messages that point into the file. */
export function parseJsonWithPositions(text: string): PositionedJson {
  const offsets = new Map<string, number>();
  let i = 0;
  const fail = (message: string, at = i): never => {
    throw new JsonSyntaxError(message, positionAt(text, at));
  };
  const describe = () => (i >= text.length ? "the end of the text" : `'${text[i]}'`);
  const space = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const join = (path: string, key: string | number) => (typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key);

  const string = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") i++;
      else if (text.charCodeAt(i) < 0x20) fail("control character in a string");
      i++;
    }
    if (i >= text.length) fail("unterminated string", start);
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail("invalid escape in a string", start);
    }
  };

  const value = (path: string): unknown => {
    space();
    offsets.set(path, i);
    const c = text[i];
    if (c === "{") {
      i++;
      const object: Record<string, unknown> = {};
      space();
      if (text[i] === "}") {
        i++;
        return object;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${describe()}`);
        const key = string();
        space();
        if (text[i] !== ":") fail(`expected ':' after the property name "${key}", found ${describe()}`);
        i++;
        object[key] = value(join(path, key));
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return object;
        }
        fail(`expected ',' or '}' in an object, found ${describe()}`);
      }
    }
    if (c === "[") {
      i++;
      const array: unknown[] = [];
      space();
      if (text[i] === "]") {
        i++;
        return array;
      }
      for (;;) {
        array.push(value(join(path, array.length)));
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return array;
        }
        fail(`expected ',' or ']' in an array, found ${describe()}`);
      }
    }
    if (c === '"') return string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!literal) return fail(`expected a value, found ${describe()}`);
    i += literal[0].length;
    return JSON.parse(literal[0]);
  };

  const result = value("");
  space();
  if (i < text.length) fail(`unexpected ${describe()} after the value`);
  return {
    value: result,
    positionOf(path: string): JsonPosition {
      let p = path;
      for (;;) {
        const offset = offsets.get(p);
        if (offset !== undefined) return positionAt(text, offset);
        if (p === "") return { line: 1, column: 1 };
        p = p.replace(/(\.[^.[\]]*|\[\d+\])$/, "");
      }
    },
  };
}
