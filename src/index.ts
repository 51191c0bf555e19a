// pcgraph: the library entry point. No Node-only imports here or below.
export * from "./backend/errors.js";
export type { Address, Backend, Conv2dGeometry, Pool2dGeometry, DType } from "./backend/kernels.js";
export { backendInfo, getBackend, setBackend, simdSupported, getBackendByName, type BackendName, type BackendInfo } from "./backend/load.js";
export { Tensor, tensor, empty, full, zeros, ones, memory, tidy, keep, type Shape, type NestedArray, type MemoryInfo, type TensorOptions } from "./tensor.js";
