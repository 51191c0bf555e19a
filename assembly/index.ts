// The closed list of kernel exports. Every kernel takes byte pointers into this module's
// memory and sizes; none knows about graphs, nodes or tensors.
export { alloc, free, memoryBytes, maxAllocationBytes, simdEnabled } from "./memory";
export { matmul, matmulBatched } from "./kernels/matmul";
export { conv2d, conv2dBackwardInput, conv2dBackwardWeights, biasAdd, biasGrad } from "./kernels/conv";
export * from "./kernels/pool";
export * from "./kernels/elementwise";
export * from "./kernels/activations";
export * from "./kernels/reductions";
export * from "./kernels/softmax";
export * from "./kernels/optimizers";
export * from "./kernels/distances";
