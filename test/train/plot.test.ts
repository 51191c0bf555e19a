import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { History } from "../../src/train/fit.js";
import { escapeXml, lineChartSvg, logAxisTicks, logTicks, niceTicks, trainingCurvesSvg } from "../../src/train/plot.js";

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

test("line charts on a log x axis with decimal ticks, a subtitle, a fixed y range and a styled reference series", () => {
  const sizes = [2, 5, 10, 100, 1000];
  const curve = (offset: number) => sizes.map((n) => [n, Math.min(100, offset + Math.log10(n) * 10)] as [number, number]);
  const panels = ["identity", "max", "softmax"].map((title, i) => ({ title, series: [curve(i), curve(20 + i), curve(5)] }));
  const svg = lineChartSvg(panels, {
    title: "capacity", subtitle: "N < 1000 & more", labels: ["dot", "euclidean", "floor <mean>"], xLabel: "N", yLabel: "%",
    logX: true, yRange: [0, 100], percent: true, columns: 2, styles: { "floor <mean>": { colour: "#888", dash: "5 4", width: 1.5 } },
  });
  checkBalanced(svg);
  assert.is((svg.match(/<g class="panel">/g) ?? []).length, 3);
  assert.is((svg.match(/<g class="legend-entry">/g) ?? []).length, 3);
  assert.match(svg, "N &lt; 1000 &amp; more");
  assert.match(svg, "floor &lt;mean&gt;");
  const strokes = [...svg.matchAll(/<polyline class="series-(\d)" points="([^"]+)" fill="none" stroke="([^"]+)" stroke-width="([^"]+)"( stroke-dasharray="([^"]+)")?/g)];
  assert.is(strokes.length, 9);
  for (const m of strokes.filter((m) => m[1] === "2")) assert.equal([m[3], m[4], m[6]], ["#888", "1.5", "5 4"], "the styled series, in every panel");
  // Log x: equal ratios are equal distances.
  const xs = strokes[0][2].split(" ").map((p) => Number(p.split(",")[0]));
  const decade = xs[4] - xs[3];
  assert.ok(Math.abs((xs[3] - xs[2]) - decade) < 0.05, "10 -> 100 spans as much as 100 -> 1000");
  assert.ok(Math.abs((xs[2] - xs[0]) - decade * Math.log10(5)) < 0.05, "2 -> 10 spans log10(5) of a decade");
  for (const tick of ["2", "5", "10", "20", "50", "100", "200", "500", "1000"]) assert.match(svg, `>${tick}</text>`);
  // The fixed range: the y axis runs 0..100 even though no value reaches 0.
  assert.match(svg, />0<\/text>/);
  // Decimal x values get decimal ticks.
  const decimal = lineChartSvg([{ title: "noise", series: [[[0.05, 10], [0.5, 50], [1.5, 90]]] }], { title: "t", labels: ["a"], xLabel: "sigma", yLabel: "%" });
  assert.match(decimal, />0.5<\/text>/);
  assert.match(decimal, />1.5<\/text>/);
});

test("a long legend wraps onto more rows, and the panels move down to make room", () => {
  const labels = Array.from({ length: 12 }, (_, i) => `a fairly long series label ${i}`);
  const svg = lineChartSvg([{ title: "p", series: labels.map((_, i) => [[0, i], [1, i + 1]] as [number, number][]) }], { title: "t", labels, xLabel: "x", yLabel: "y", panelWidth: 400 });
  checkBalanced(svg);
  const ys = new Set([...svg.matchAll(/<g class="legend-entry"><line x1="[^"]+" y1="([^"]+)"/g)].map((m) => m[1]));
  assert.ok(ys.size > 1, "several legend rows");
  const rows = ys.size;
  assert.match(svg, new RegExp(`height="${50 + 20 * (rows - 1) + 20 + 300}"`));
});

test("log-log line charts: equal ratios are equal distances on both axes, decade ticks over a wide range, non-positive values left out", () => {
  const betas = [1e-4, 1e-3, 1e-2, 1e-1, 1];
  const svg = lineChartSvg([{ title: "error", series: [betas.map((b) => [b, 2 * b] as [number, number]), betas.map((b) => [b, b * b] as [number, number]), [[1e-2, 0], [1e-1, 0.5]]] }], {
    title: "rates", labels: ["slope 1", "slope 2", "with a zero"], xLabel: "beta", yLabel: "error", logX: true, logY: true,
  });
  checkBalanced(svg);
  const points = (i: number) => [...svg.matchAll(new RegExp(`<polyline class="series-${i}" points="([^"]+)"`, "g"))][0][1].split(" ").map((p) => p.split(",").map(Number));
  const one = points(0);
  const two = points(1);
  const dx = one[1][0] - one[0][0];
  const dy = one[0][1] - one[1][1];
  for (let i = 1; i < 5; i++) {
    assert.ok(Math.abs(one[i][0] - one[i - 1][0] - dx) < 0.05, "every decade of beta spans the same width");
    assert.ok(Math.abs(one[i - 1][1] - one[i][1] - dy) < 0.05, "slope 1: every decade of error spans the same height");
    assert.ok(Math.abs(two[i - 1][1] - two[i][1] - 2 * dy) < 0.05, "slope 2: twice that height per decade");
  }
  assert.is(points(2).length, 1, "the point at y = 0 is left out of a log axis");
  // 1e-8 .. 2: powers of ten only, written compactly.
  for (const tick of ["1e-8", "1e-4", "0.001", "1", "10"]) assert.match(svg, `>${tick}</text>`);
  assert.not.match(svg, />2e-8<\/text>/);
  assert.equal(logAxisTicks(1e-8, 10), [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 0.001, 0.01, 0.1, 1, 10]);
  assert.equal(logAxisTicks(2, 1000), logTicks(2, 1000), "three decades or fewer: 1, 2, 5 ticks");
});

test("log ticks are 1, 2, 5 times powers of ten within the range", () => {
  assert.equal(logTicks(2, 1000), [2, 5, 10, 20, 50, 100, 200, 500, 1000]);
  assert.equal(logTicks(0.05, 1.5), [0.05, 0.1, 0.2, 0.5, 1]);
  assert.equal(logTicks(0, 10), []);
});

test.run();
