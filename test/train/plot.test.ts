import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { History } from "../../src/train/fit.js";
import { escapeXml, lineChartSvg, niceTicks, trainingCurvesSvg } from "../../src/train/plot.js";

const test = suite("plot");

function history(epochs: number, offset = 0, withTest = true): History {
  return {
    epochs: Array.from({ length: epochs }, (_, i) => ({
      epoch: i + 1,
      trainLoss: 1 / (i + 1) + offset,
      ...(withTest ? { testLoss: 1.1 / (i + 1), testAccuracy: 0.8 + 0.02 * i } : { trainAccuracy: 0.7 + 0.03 * i }),
      learningRate: 0.01,
      seconds: 1,
    })),
    stoppedEarly: false,
    interrupted: false,
    seconds: epochs,
  };
}

/** Checks that every element is closed in order; returns the element names seen. */
function checkBalanced(svg: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  const body = svg.replace(/^<\?xml[^>]*\?>/, "");
  for (const match of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      seen.push(name);
      if (!selfClosing) stack.push(name);
    }
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(", ")}`);
  // Outside tags, only escaped text: no stray < or bare &.
  const text = body.replace(/<[^>]*>/g, "");
  if (/[<>]/.test(text) || /&(?!amp;|lt;|gt;|quot;|#39;)/.test(text)) throw new Error("unescaped text");
  return seen;
}

test("a valid SVG with a polyline per series in each panel and a legend", () => {
  const svg = trainingCurvesSvg([{ label: "Z-IL", history: history(5) }, { label: "BP", history: history(5) }], { title: "MLP" });
  assert.ok(svg.startsWith("<?xml"));
  const elements = checkBalanced(svg);
  assert.is(elements[0], "svg");
  assert.match(svg, 'xmlns="http://www.w3.org/2000/svg"');
  assert.is((svg.match(/<polyline/g) ?? []).length, 4);
  assert.is((svg.match(/<g class="legend-entry">/g) ?? []).length, 2);
  assert.match(svg, ">Z-IL</text>");
  assert.match(svg, ">BP</text>");
  assert.match(svg, ">MLP</text>");
  assert.match(svg, "Test accuracy");
  assert.match(svg, ">epoch</text>");
  // Overlapping series differ in colour and dash.
  const strokes = [...svg.matchAll(/<polyline class="series-(\d)"[^>]*stroke="([^"]+)"[^>]*?(stroke-dasharray="[^"]+")?/g)];
  assert.is.not(strokes.find((m) => m[1] === "0")![2], strokes.find((m) => m[1] === "1")![2]);
  assert.match(svg, /class="series-1"[^>]*stroke-dasharray/);
  // Each polyline has one point per epoch.
  const points = /<polyline class="series-0" points="([^"]+)"/.exec(svg)![1].trim().split(/\s+/);
  assert.is(points.length, 5);
  for (const p of points) assert.ok(p.split(",").every((v) => Number.isFinite(Number(v))));
});

test("labels and title are escaped", () => {
  const svg = trainingCurvesSvg([{ label: `a<b & "c"`, history: history(3) }], { title: "x < y & z" });
  checkBalanced(svg);
  assert.match(svg, "a&lt;b &amp; &quot;c&quot;");
  assert.match(svg, "x &lt; y &amp; z");
  assert.not.match(svg, "a<b");
  assert.is(escapeXml(`<&>"'`), "&lt;&amp;&gt;&quot;&#39;");
});

test("without test data, training accuracy is drawn; odd inputs still give valid SVG", () => {
  const svg = trainingCurvesSvg([{ label: "run", history: history(4, 0, false) }]);
  checkBalanced(svg);
  assert.match(svg, "Training accuracy");
  assert.is((svg.match(/<polyline/g) ?? []).length, 2);
  for (const odd of [history(1), history(0), { ...history(3), epochs: history(3).epochs.map((r) => ({ ...r, trainLoss: NaN })) }]) {
    const s = trainingCurvesSvg([{ label: "x", history: odd }]);
    checkBalanced(s);
    assert.not.match(s, "NaN");
  }
  checkBalanced(trainingCurvesSvg([]));
});

test("the accuracy axis stays within 0..100%, also for a one-epoch run or a flat 100%", () => {
  for (const accuracy of [0.975, 1, 0, 0.5]) {
    const one: History = { ...history(1), epochs: [{ ...history(1).epochs[0], testAccuracy: accuracy }] };
    for (const runs of [[{ label: "Z-IL", history: one }], [{ label: "Z-IL", history: { ...history(3), epochs: history(3).epochs.map((e) => ({ ...e, testAccuracy: accuracy })) } }]]) {
      const svg = trainingCurvesSvg(runs);
      const panel = svg.slice(svg.indexOf("Test accuracy"));
      const ticks = [...panel.matchAll(/text-anchor="end" dominant-baseline="middle" font-size="11">([\d.-]+)</g)].map((m) => Number(m[1]));
      assert.ok(ticks.length >= 2, `ticks ${ticks}`);
      assert.ok(ticks.every((t) => t >= 0 && t <= 100), `accuracy ${accuracy}: ticks ${ticks.join(", ")}`);
      assert.ok(Math.min(...ticks) <= 100 * accuracy && Math.max(...ticks) >= 100 * accuracy, `ticks cover ${100 * accuracy}`);
    }
  }
});

test("tick values are round and cover the range", () => {
  const ticks = niceTicks(0.13, 0.97, 5);
  assert.ok(ticks[0] <= 0.13 && ticks[ticks.length - 1] >= 0.97);
  const step = ticks[1] - ticks[0];
  assert.ok([0.1, 0.2, 0.25, 0.5].some((s) => Math.abs(step - s) < 1e-12), `step ${step}`);
  const flat = niceTicks(2, 2);
  assert.ok(flat[0] < 2 && flat[flat.length - 1] > 2);
});

test("line charts: a panel per condition in a grid, a polyline per series, the x axis from its first value", () => {
  const steps = (base: number) => Array.from({ length: 11 }, (_, t) => [t, base + t] as [number, number]);
  const panels = ["clean", "noise <0.5>", "noise 1"].map((title, i) => ({ title, series: [steps(50 + i), steps(60 + i)] }));
  const svg = lineChartSvg(panels, { title: "accuracy & steps", labels: ["feedforward", "predified"], xLabel: "time step", yLabel: "accuracy (%)", percent: true, columns: 2 });
  const elements = checkBalanced(svg);
  assert.is(elements[0], "svg");
  assert.is((svg.match(/<polyline/g) ?? []).length, 6);
  assert.is((svg.match(/<g class="panel">/g) ?? []).length, 3);
  assert.is((svg.match(/<g class="legend-entry">/g) ?? []).length, 2);
  assert.match(svg, ">time step</text>");
  assert.match(svg, "noise &lt;0.5&gt;");
  assert.match(svg, "accuracy &amp; steps");
  assert.match(svg, />0<\/text>/, "the x axis starts at step 0");
  const xs = [...svg.matchAll(/<polyline class="series-0" points="([^"]+)"/g)][0][1].split(" ").map((p) => Number(p.split(",")[0]));
  assert.is(xs.length, 11);
  assert.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]), "points left to right");
  assert.match(svg, /height="670"/, "two rows of panels");
});

test.run();
