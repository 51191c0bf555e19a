// The closed list of kernel exports. Every kernel takes byte pointers into this module's
// memory and sizes; none knows about graphs, nodes or tensors.
export { alloc, free, memoryBytes, simdEnabled } from "./memory";
export { matmul, matmulBatched } from "./kernels/matmul";
export * from "./kernels/conv";
export * from "./kernels/pool";
export * from "./kernels/elementwise";
export * from "./kernels/activations";
export * from "./kernels/reductions";
export * from "./kernels/softmax";
export * from "./kernels/optimizers";
export * from "./kernels/distances";
