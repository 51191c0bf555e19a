// Image grids for figures: square grayscale tiles (e.g. 28x28 digits with values in [0, 1])
// laid out in rows and columns with a gap, as 8-bit pixels for a PNG encoder.
import { InvalidArgumentError } from "../backend/errors.js";

export interface GridOptions {
  /** Tiles per row. */
  columns: number;
  /** Tile side in pixels (default: the square root of the tile length). */
  side?: number;
  /** Gap between tiles in pixels (default 2). */
  gap?: number;
  /** Gap colour, 0-255 (default 128). */
  background?: number;
  /** Value range mapped to 0..255 (default [0, 1]; values outside are clipped). */
  range?: [number, number];
  /** Integer upscaling of every pixel (default 1). */
  scale?: number;
}

/** Tiles (null leaves a gap-coloured cell) in a grid: { pixels, width, height }. */
export function imageGrid(tiles: (ArrayLike<number> | null)[], o: GridOptions): { pixels: Uint8Array; width: number; height: number } {
  const first = tiles.find((t) => t !== null);
  if (!first) throw new InvalidArgumentError("imageGrid: no tiles");
  const side = o.side ?? Math.round(Math.sqrt(first.length));
  if (side * side !== first.length) throw new InvalidArgumentError(`imageGrid: tiles of ${first.length} values are not square; give side`);
  const gap = o.gap ?? 2;
  const scale = o.scale ?? 1;
  const [lo, hi] = o.range ?? [0, 1];
  const columns = o.columns;
  const rows = Math.ceil(tiles.length / columns);
  const cell = side * scale;
  const width = columns * cell + (columns + 1) * gap;
  const height = rows * cell + (rows + 1) * gap;
  const pixels = new Uint8Array(width * height).fill(o.background ?? 128);
  tiles.forEach((tile, index) => {
    if (!tile) return;
    if (tile.length !== side * side) throw new InvalidArgumentError(`imageGrid: tile ${index} has ${tile.length} values, expected ${side * side}`);
    const x0 = gap + (index % columns) * (cell + gap);
    const y0 = gap + Math.floor(index / columns) * (cell + gap);
    for (let y = 0; y < cell; y++)
      for (let x = 0; x < cell; x++) {
        const v = tile[Math.floor(y / scale) * side + Math.floor(x / scale)];
        const unit = Number.isFinite(v) ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0;
        pixels[(y0 + y) * width + x0 + x] = Math.round(unit * 255);
      }
  });
  return { pixels, width, height };
}
