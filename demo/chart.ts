// The training chart: train loss per few batches and test accuracy per epoch on one canvas.
import { algorithmLabel } from "./settings.js";

export interface LossPoint { x: number; loss: number }
export interface EpochPoint { x: number; accuracy: number; loss: number }

export function drawChart(canvas: HTMLCanvasElement, lossPoints: readonly LossPoint[], epochPoints: readonly EpochPoint[], epochs: number): void {
  const ratio = Math.max(1, Math.round(window.devicePixelRatio || 1));
  const cssWidth = 640;
  const cssHeight = 280;
  if (canvas.width !== cssWidth * ratio) {
    canvas.width = cssWidth * ratio;
    canvas.height = cssHeight * ratio;
  }
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, cssWidth, cssHeight);
  const left = 52;
  const right = cssWidth - 58;
  const top = 28;
  const bottom = cssHeight - 36;
  const xMax = Math.max(epochs, Math.ceil(lossPoints.length ? lossPoints[lossPoints.length - 1].x : 0), 1);
  const lossMax = Math.max(0.5, ...lossPoints.map((p) => p.loss), ...epochPoints.map((p) => p.loss)) * 1.05;
  const accMin = Math.min(0.8, ...epochPoints.map((p) => Math.floor(p.accuracy * 20) / 20));
  const X = (x: number) => left + (x / xMax) * (right - left);
  const YL = (loss: number) => bottom - (loss / lossMax) * (bottom - top);
  const YA = (acc: number) => bottom - ((acc - accMin) / (1 - accMin)) * (bottom - top);

  // grid and axes
  ctx.font = "11px system-ui, sans-serif";
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#eceef2";
  ctx.fillStyle = "#667085";
  ctx.textBaseline = "middle";
  for (let i = 0; i <= 4; i++) {
    const y = top + (i / 4) * (bottom - top);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(right, y);
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.fillStyle = "#2f6fde";
    ctx.fillText((lossMax * (1 - i / 4)).toFixed(2), left - 6, y);
    ctx.textAlign = "left";
    ctx.fillStyle = "#e07a1f";
    ctx.fillText(`${((1 - (i / 4) * (1 - accMin)) * 100).toFixed(0)}%`, right + 6, y);
  }
  ctx.fillStyle = "#667085";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const xStep = Math.max(1, Math.ceil(xMax / 10));
  for (let e = 0; e <= xMax; e += xStep) ctx.fillText(String(e), X(e), bottom + 6);
  ctx.fillText("epoch", (left + right) / 2, bottom + 20);
  ctx.strokeStyle = "#b8c0cc";
  ctx.strokeRect(left, top, right - left, bottom - top);

  // legend
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  ctx.fillStyle = "#2f6fde";
  ctx.fillRect(left, 10, 14, 3);
  ctx.fillStyle = "#1d2330";
  ctx.fillText(`train loss (${algorithmLabel}, per few batches)`, left + 20, 11);
  ctx.fillStyle = "#e07a1f";
  ctx.beginPath();
  ctx.arc(left + 257, 11, 4, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = "#1d2330";
  ctx.fillText("test accuracy (per epoch)", left + 266, 11);

  // training loss
  ctx.strokeStyle = "#2f6fde";
  ctx.lineWidth = 2;
  ctx.lineJoin = "round";
  if (lossPoints.length === 1) {
    ctx.fillStyle = "#2f6fde";
    ctx.beginPath();
    ctx.arc(X(lossPoints[0].x), YL(lossPoints[0].loss), 3, 0, 2 * Math.PI);
    ctx.fill();
  } else if (lossPoints.length > 1) {
    ctx.beginPath();
    lossPoints.forEach((p, i) => (i ? ctx.lineTo(X(p.x), YL(p.loss)) : ctx.moveTo(X(p.x), YL(p.loss))));
    ctx.stroke();
  }

  // test accuracy
  ctx.strokeStyle = "#e07a1f";
  ctx.fillStyle = "#e07a1f";
  if (epochPoints.length > 1) {
    ctx.beginPath();
    epochPoints.forEach((p, i) => (i ? ctx.lineTo(X(p.x), YA(p.accuracy)) : ctx.moveTo(X(p.x), YA(p.accuracy))));
    ctx.stroke();
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.font = "600 11px system-ui, sans-serif";
  for (const p of epochPoints) {
    ctx.beginPath();
    ctx.arc(X(p.x), YA(p.accuracy), 4.5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillText(`${(p.accuracy * 100).toFixed(1)}%`, Math.min(X(p.x), right - 18), YA(p.accuracy) - 7);
  }
  canvas.dataset.points = String(lossPoints.length + epochPoints.length);
  canvas.dataset.lossPoints = String(lossPoints.length);
  canvas.dataset.epochPoints = String(epochPoints.length);
}
