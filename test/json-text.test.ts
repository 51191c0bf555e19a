// JSON with positions parses exactly what JSON.parse parses (the oracle), to the same value,
// and points at the line and column of a value or of a syntax error.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { JsonSyntaxError, parseJsonWithPositions } from "../src/json-text.js";

const test = suite("json text");

test("any JSON text parses to the value JSON.parse gives", () => {
  fc.assert(fc.property(fc.json(), fc.constantFrom(0, 2), (text, indent) => {
    const formatted = indent ? JSON.stringify(JSON.parse(text), null, indent) : text;
    assert.equal(parseJsonWithPositions(formatted).value, JSON.parse(formatted));
  }), { numRuns: 300 });
});

test("text JSON.parse rejects is rejected, and text it accepts is accepted", () => {
  const fragments = fc.constantFrom("{", "}", "[", "]", ",", ":", '"a"', '"\\u00e9"', '"\\x"', "1", "-0.5e3", "01", "1.", "true", "nul", " ", "\n", "'b'");
  fc.assert(fc.property(fc.array(fragments, { maxLength: 8 }), (parts) => {
    const text = parts.join("");
    let expected = true;
    try {
      JSON.parse(text);
    } catch {
      expected = false;
    }
    let actual = true;
    try {
      parseJsonWithPositions(text);
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      actual = false;
    }
    assert.is(actual, expected, JSON.stringify(text));
  }), { numRuns: 2000 });
});

test("positions of values and of syntax errors", () => {
  const text = '{\n  "a": [1,\n    {"b": true}],\n  "c": "x"\n}';
  const parsed = parseJsonWithPositions(text);
  assert.equal(parsed.positionOf("a"), { line: 2, column: 8 });
  assert.equal(parsed.positionOf("a[1].b"), { line: 3, column: 11 });
  assert.equal(parsed.positionOf("a[1].missing"), { line: 3, column: 5 }, "an absent field: its object");
  assert.equal(parsed.positionOf("c"), { line: 4, column: 8 });
  assert.equal(parsed.positionOf(""), { line: 1, column: 1 });
  try {
    parseJsonWithPositions('{\n  "a": 1,\n  "b" 2\n}');
    assert.unreachable();
  } catch (error) {
    assert.instance(error, JsonSyntaxError);
    assert.equal((error as JsonSyntaxError).position, { line: 3, column: 7 });
    assert.match((error as Error).message, /expected ':' after the property name "b"/);
  }
});

test.run();
