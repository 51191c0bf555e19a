// Fashion-MNIST (Xiao et al. 2017) as Debian's `dataset-fashion-mnist` package installs it:
// the four standard IDX .gz files under /usr/share/datasets/fashion-mnist. Node-only, like
// the bundled digits. `PCGRAPH_FASHION_MNIST` (or the `directory` option) points elsewhere.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadIdxDataset } from "./datasets.js";
import type { Dataset } from "../train/data/dataset.js";
import { DataFormatError } from "../train/data/errors.js";

/** Where Debian's package puts the files. */
export const FASHION_MNIST_DEBIAN_DIRECTORY = "/usr/share/datasets/fashion-mnist";

/** The ten Fashion-MNIST class names, by label. */
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
] as const;

const FILES = {
  train: ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"],
  test: ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
} as const;

/** Where `loadFashionMnist` reads the files and the feature shape it returns. */
export interface FashionMnistOptions {
  /** Directory of the four IDX .gz files (default: $PCGRAPH_FASHION_MNIST, else Debian's). */
  directory?: string;
  /** "flat": features [784] (default); "image": [1, 28, 28]. */
  shape?: "flat" | "image";
}

/** The directory the files are read from (not checked). */
export function fashionMnistDirectory(directory?: string): string {
  return directory ?? (typeof process !== "undefined" ? process.env.PCGRAPH_FASHION_MNIST : undefined) ?? FASHION_MNIST_DEBIAN_DIRECTORY;
}

/** True when all four files are present. */
export function fashionMnistAvailable(directory?: string): boolean {
  const dir = fashionMnistDirectory(directory);
  return [...FILES.train, ...FILES.test].every((file) => existsSync(join(dir, file)));
}

/**
 * The 60,000 training and 10,000 test images, pixel values in [0, 1]. Throws a
 * DataFormatError that says how to install the data when the files are absent.
 */
export function loadFashionMnist(options: FashionMnistOptions = {}): { train: Dataset; test: Dataset } {
  const dir = fashionMnistDirectory(options.directory);
  for (const file of [...FILES.train, ...FILES.test])
    if (!existsSync(join(dir, file)))
      throw new DataFormatError(join(dir, file),
        "Fashion-MNIST not found: install it with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), " +
        "or set PCGRAPH_FASHION_MNIST to a directory holding the four standard IDX .gz files");
  const load = (split: "train" | "test") =>
    loadIdxDataset(join(dir, FILES[split][0]), join(dir, FILES[split][1]), `fashion-mnist (${split})`, { shape: options.shape });
  return { train: load("train"), test: load("test") };
}
