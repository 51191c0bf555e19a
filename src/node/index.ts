// "pcgraph/node": the Node-only helpers — atomic files, model and checkpoint files, dataset
// files, and the bundled MNIST digits. Everything else is in the platform-neutral "pcgraph".
export { writeFileAtomic, saveModel, loadModel, MODEL_FILE, WEIGHTS_FILE, type AtomicWriteOptions, type AtomicWriteFs } from "./files.js";
export { saveCheckpoint, loadCheckpoint, savePCGraphCheckpoint, loadPCGraphCheckpoint } from "./checkpoint-files.js";
export { loadIdxDataset, loadCsvDataset, readMaybeGzip } from "./datasets.js";
export { loadBundledMnist, type BundledMnistOptions } from "../train/data/mnist.js";
export { hostLine } from "./host.js";
export { loadFashionMnist, fashionMnistAvailable, fashionMnistDirectory, FASHION_MNIST_CLASSES, FASHION_MNIST_DEBIAN_DIRECTORY, type FashionMnistOptions } from "./fashion-mnist.js";
export { readPredifyConfig } from "./predify-config.js";
export { encodeGreyPng, type GreyRaster } from "./png.js";
export { composeGrid, gridPng, gridSvg, type GridOptions } from "./image-grid.js";
export { saveMemoryFile, loadMemoryFile, encodeMemoryFile, decodeMemoryFile, MEMORY_FILE_MAGIC, MEMORY_FILE_VERSION, type MemoryFile } from "./memory-file.js";
