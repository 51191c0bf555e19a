// Image grids: rows of images (e.g. stored / query / recalled by each method) as one PNG,
// and as an SVG that embeds that PNG under column labels. Node-only (PNG through node:zlib).
import { encodeGreyPng, type GreyRaster } from "./png.js";
import { escapeXml } from "../train/plot.js";

/** Size and spacing of the images in a grid. */
export interface GridOptions {
  /** Each image is height x width values in [0, 1] (values outside are clipped). */
  imageHeight: number;
  imageWidth: number;
  /** Pixels per image pixel (default 2). */
  scale?: number;
  /** Gap between cells in output pixels (default 4). */
  gap?: number;
}

/** One raster of cells[row][column]; a null cell stays blank. Gaps are white. */
export function composeGrid(cells: (ArrayLike<number> | null)[][], options: GridOptions): GreyRaster {
  const scale = options.scale ?? 2;
  const gap = options.gap ?? 4;
  const rows = cells.length;
  const columns = Math.max(1, ...cells.map((r) => r.length));
  const cellWidth = options.imageWidth * scale;
  const cellHeight = options.imageHeight * scale;
  const width = columns * cellWidth + (columns + 1) * gap;
  const height = Math.max(1, rows) * cellHeight + (Math.max(1, rows) + 1) * gap;
  const pixels = new Uint8Array(width * height).fill(255);
  cells.forEach((row, r) => row.forEach((image, c) => {
    if (!image) return;
    if (image.length !== options.imageHeight * options.imageWidth)
      throw new RangeError(`composeGrid: cell [${r}][${c}] has ${image.length} values, expected ${options.imageHeight} x ${options.imageWidth}`);
    const left = gap + c * (cellWidth + gap);
    const top = gap + r * (cellHeight + gap);
    for (let y = 0; y < cellHeight; y++)
      for (let x = 0; x < cellWidth; x++) {
        const v = image[Math.floor(y / scale) * options.imageWidth + Math.floor(x / scale)];
        // As the datasets store them: 0 -> black, 1 -> white.
        const clipped = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
        pixels[(top + y) * width + left + x] = Math.round(255 * clipped);
      }
  }));
  return { width, height, pixels };
}

/** The grid as PNG bytes. */
export function gridPng(cells: (ArrayLike<number> | null)[][], options: GridOptions): Uint8Array {
  return encodeGreyPng(composeGrid(cells, options));
}

/** The grid as an SVG: a title, a label over each column, and the PNG embedded below. */
export function gridSvg(cells: (ArrayLike<number> | null)[][], options: GridOptions & { title: string; columnLabels: string[]; subtitle?: string }): string {
  const raster = composeGrid(cells, options);
  const png = Buffer.from(encodeGreyPng(raster)).toString("base64");
  const scale = options.scale ?? 2;
  const gap = options.gap ?? 4;
  const cellWidth = options.imageWidth * scale;
  const labelTop = options.subtitle ? 58 : 42;
  const top = labelTop + 14;
  const width = Math.max(raster.width, 360);
  const height = top + raster.height;
  const labels = options.columnLabels.map((label, c) =>
    `<text x="${gap + c * (cellWidth + gap) + cellWidth / 2}" y="${labelTop}" text-anchor="middle" font-size="10">${escapeXml(label)}</text>`);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
    ...(options.subtitle ? [`<text x="${width / 2}" y="37" text-anchor="middle" font-size="11" fill="#444">${escapeXml(options.subtitle)}</text>`] : []),
    ...labels,
    `<image x="0" y="${top}" width="${raster.width}" height="${raster.height}" href="data:image/png;base64,${png}"/>`,
    `</svg>`,
    "",
  ].join("\n");
}
