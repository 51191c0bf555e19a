// The closed list of kernel exports. Every kernel takes byte pointers into this module's
// memory and sizes; none knows about graphs, nodes or tensors.
export { alloc, free, memoryBytes, simdEnabled } from "./memory";
export * from "./kernels/elementwise";
