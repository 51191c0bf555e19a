// Page helpers shared by the panels: element lookup, number formats, the page state.
export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
export const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "–");
export const sci = (x: number) => (x === 0 ? "0" : x.toExponential(1));
export const nf = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function setState(state: "loading" | "ready" | "training" | "error"): void {
  document.body.dataset.state = state;
}

export function showError(error: unknown): void {
  setState("error");
  const status = $("status");
  status.classList.add("error");
  status.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
  console.error(error);
}

export const yieldToBrowser = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Draws a 28x28 image (values in [0, 1]) on a canvas of any size, pixelated. */
export function drawImage(canvas: HTMLCanvasElement, pixels: ArrayLike<number>, side = 28): void {
  const ctx = canvas.getContext("2d")!;
  const image = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const v = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
    image.data.set([v, v, v, 255], i * 4);
  }
  const scratch = document.createElement("canvas");
  scratch.width = side;
  scratch.height = side;
  scratch.getContext("2d")!.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}
