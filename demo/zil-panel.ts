// The Z-IL vs BP panel: per parameter, the largest difference between the Z-IL update that
// is applied and the backprop gradient of the same batch at the same weights.
import type { Graph, Tensor } from "../src/index.js";
import { $, sci } from "./page.js";
import { algorithmLabel } from "./settings.js";

export interface ParameterDifference { name: string; shape: number[]; abs: number; rel: number; maxBp: number }

const ui = {
  zilTable: $<HTMLTableElement>("zil-vs-bp"),
  zilInfo: $("zil-check-info"),
  zilVerdict: $("zil-verdict"),
};

/** Largest |Z-IL - BP| per parameter, absolute and relative to the largest |BP| entry. */
export function compare(zil: Map<string, Tensor>, bp: Map<string, Float32Array | Float64Array>, graph: Graph): ParameterDifference[] {
  return graph.parameters.map((p) => {
    const a = zil.get(p.name)!.dataSync();
    const b = bp.get(p.name)!;
    let abs = 0;
    let maxBp = 0;
    for (let i = 0; i < b.length; i++) {
      abs = Math.max(abs, Math.abs(a[i] - b[i]));
      maxBp = Math.max(maxBp, Math.abs(b[i]));
    }
    return { name: p.name, shape: [...p.shape], abs, rel: maxBp > 0 ? abs / maxBp : abs, maxBp };
  });
}

export function renderDifferences(check: { rows: ParameterDifference[]; epoch: number; batch: number; step: number; zilLoss: number; bpLoss: number } | null) {
  const body = ui.zilTable.tBodies[0];
  body.replaceChildren();
  if (!check) {
    ui.zilInfo.textContent = "press Train: the first check runs on the first batch.";
    ui.zilVerdict.textContent = "";
    ui.zilVerdict.className = "verdict";
    return;
  }
  let worst = 0;
  for (const row of check.rows) {
    const tr = document.createElement("tr");
    tr.dataset.param = row.name;
    tr.dataset.rel = String(row.rel);
    const ok = row.rel <= 1e-4;
    worst = Math.max(worst, row.rel);
    const name = document.createElement("td");
    const shape = document.createElement("span");
    shape.className = "shape";
    shape.textContent = ` ${row.shape.join("×")}`;
    name.append(row.name, shape);
    tr.append(name);
    for (const [text, cls] of [[sci(row.abs), ""], [sci(row.rel), `rel ${ok ? "ok" : "bad"}`], [sci(row.maxBp), ""]]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    body.append(tr);
  }
  ui.zilInfo.textContent = `checked at step ${check.step} (epoch ${check.epoch}, batch ${check.batch}), before the update; ` +
    `loss ${algorithmLabel} ${check.zilLoss.toFixed(6)}, BP ${check.bpLoss.toFixed(6)}.`;
  const ok = worst <= 1e-4;
  ui.zilVerdict.className = `verdict ${ok ? "ok" : "bad"}`;
  ui.zilVerdict.textContent = worst === 0
    ? `largest relative difference 0: ${algorithmLabel}'s update is bit-for-bit backprop's`
    : ok
      ? `largest relative difference ${sci(worst)}: the same update, up to float32 rounding`
      : `largest relative difference ${sci(worst)}: ${algorithmLabel} and BP disagree`;
}
