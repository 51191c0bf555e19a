// pcgraph: the library entry point. No Node-only imports here or below (file helpers live
// in "pcgraph/node").
export * from "./backend/errors.js";
export type { Address, Backend, Kernels, Activation, Conv2dGeometry, Pool2dGeometry, DType } from "./backend/kernels.js";
export {
  backendInfo, describeBackend, getBackend, setBackend, ready, simdSupported, threadsSupported, getBackendByName, createBackend, disposeBackends, backendNames,
  type BackendName, type BackendInfo, type BackendOptions,
} from "./backend/load.js";
export type { ThreadOptions, ThreadInfo, PoolStats } from "./backend/threaded.js";
export { Tensor, tensor, empty, full, zeros, ones, memory, tidy, keep, type Shape, type NestedArray, type MemoryInfo, type TensorOptions } from "./tensor.js";
export { releaseScratch } from "./scratch.js";
export { Random } from "./random.js";

// Graphs
export { GraphBuilder, sequential, layers, type NodeRef, type Layer, type Pair, type DenseOptions, type Conv2dOptions, type Conv2dTransposeOptions, type PoolOptions, type RnnOptions } from "./graph/builder.js";
export type { ActivationName } from "./graph/ops/activation.js";
export { Graph, Parameter, type GraphSpec, type NodeSpec, type GraphNode, type BuildOptions } from "./graph/graph.js";
export { GraphError, SerializationError } from "./graph/errors.js";
export { predict, type Feeds } from "./graph/forward.js";
export { lossValue, outputError, type LossName } from "./graph/loss.js";
export type { Op, ParamSpec, Initializer, InitializerName } from "./graph/op.js";
export { opKinds } from "./graph/registry.js";
export { backprop, BackpropEngine, type Batch, type BackpropResult } from "./reference/backprop.js";

// Predictive coding
export { PCEngine, pcGradients, type PCAlgorithm, type PCOptions, type PCResult } from "./pc/engine.js";
export { PCNetwork, type Vertex, type ChildEdge } from "./pc/network.js";
export type { ZilScheduleOptions } from "./pc/schedules.js";
export { PCState, type PCBatch } from "./pc/state.js";
export { inferenceStep, feedback, ParameterAccumulator, type StepOptions } from "./pc/dynamics.js";
export { randomGraph, randomBatch, drawFromRandom, type Draw, type RandomGraph } from "./pc/random-graph.js";
export { runVerify, compareWithBackprop, gradientDivergence, type VerifyOptions, type VerifyReport, type Comparison } from "./pc/verify.js";
export {
  verifyGraph, formatVerifyReport, allowedLosses, caseDivergence,
  type VerifyGraphOptions, type VerifyGraphReport, type VerifyCase, type VerifyCounterexample, type VerifyTableRow,
} from "./pc/verify-graph.js";
export { predify, PredifiedNetwork, type Pcoder, type PredifyStep, type PredifyRun, type PredifyOptions, type RateOverrides } from "./pc/predify.js";
export {
  checkPredifyConfig, parsePredifyConfig, predifyConfigSchema, predifyDefaults, PredifyConfigError,
  type PredifyConfig, type PcoderConfig, type DecoderConfig, type ConvTransposeDecoderConfig, type DenseDecoderConfig, type PcoderRates, type SizePair,
} from "./pc/predify-config.js";
export { suggestPcoders, fitTransposedConv } from "./pc/predify-decoders.js";

// Associative memories
export { UniversalHopfield, modernHopfield, type UniversalHopfieldOptions } from "./memory/universal-hopfield.js";
export { ClassicHopfield, toBipolar, type ClassicHopfieldOptions } from "./memory/classic-hopfield.js";
export type { AssociativeMemory } from "./memory/associative-memory.js";
export {
  PCMemory, resolvePCMemorySettings, pcMemoryGroups, type PCMemoryOptions, type PCMemorySettings, type PCMemoryTraining, type RecallSchedule, type PCMemoryRecallStep, type PCMemoryRecallInfo,
} from "./memory/pc-memory.js";
export { AutoencoderMemory, resolveAutoencoderSettings, type AutoencoderMemoryOptions, type AutoencoderMemorySettings, type AutoencoderTraining } from "./memory/autoencoder-memory.js";
export { memoryActivations, type MemoryActivation, type MemoryEpochRecord, type MemoryTrainingResult } from "./memory/memory-training.js";
export type { Rows, MaskInput } from "./memory/inputs.js";
export { SIMILARITY_NAMES, PAPER_SIMILARITIES, type SimilarityName, type SimilarityFunction, type SimilaritySpec } from "./memory/similarity.js";
export { resolveSeparation, separateRow, normalizeRow, separationLabel, DEFAULT_SOFTMAX_BETA, DEFAULT_POLYNOMIAL_DEGREE, type Separation, type SeparationSpec } from "./memory/separation.js";
export { corruptQueries, queryCorruptionLabel, checkQueryCorruption, visibleRowsMask, firstHiddenRow, type QueryCorruption, type ImageShape } from "./memory/corruption.js";
export {
  runCapacity, summarize, summarizeFloors, drawPatterns, uhnMethod, memoryMethod, fraction, RecallJudge, PAPER_CRITERION, STRICT_CRITERION, mseCriterion,
  type CapacityOptions, type CapacityResult, type CapacityRecord, type FloorRecord, type Summary, type Criterion, type RecallJudgement,
  type RecallMethod, type PreparedMemory, type RecallVariant,
} from "./memory/capacity.js";

// Training
export { gradientEngine, algorithms, type Algorithm, type GradientEngine } from "./train/gradients.js";
export { fit, epochSeed, readProgress, TrainingError, type FitOptions, type History, type EpochRecord, type BatchInfo, type EarlyStoppingOptions, type TrainingProgress, type ResumableCheckpoint, type TrainingCheckpoint, type InferenceTally } from "./train/fit.js";
export { evaluate, BatchTensors, type Evaluation, type EvaluateOptions } from "./train/evaluate.js";
export { createOptimizer, optimizerKinds, scheduledLearningRate, type Optimizer, type OptimizerConfig, type OptimizerKind, type ScheduleConfig, type ResolvedOptimizerConfig } from "./train/optimizers.js";
export { makeDataset, subset, shuffledIndices, trainTestSplit, oneHot, batches, numBatches, featureSize, type Dataset, type MiniBatch, type BatchOptions, type Batches } from "./train/data/dataset.js";
export { parseIdx, encodeIdx, idxToDataset, isGzip, type IdxArray, type IdxDatasetOptions } from "./train/data/idx.js";
export { parseCsv, type CsvOptions } from "./train/data/csv.js";
export { DataFormatError, type DataLocation } from "./train/data/errors.js";
export { trainingCurvesSvg, lineChartSvg, logTicks, type CurveSeries, type PlotOptions, type LinePanel, type LineChartOptions, type SeriesStyle } from "./train/plot.js";
export {
  trainDecoders, evaluateOverSteps, reconstructionLoss, predifiedFromCheckpoint, readDecoderProgress,
  type DecoderTrainingOptions, type DecoderTrainingProgress, type StepEvaluation, type StepEvaluationOptions,
} from "./train/predify.js";
export { corrupt, corruptedDataset, corruptionLabel, checkCorruption, type Corruption } from "./train/data/corruptions.js";
export { checkAgainstSchema, type JsonSchema, type SchemaProblem } from "./json-schema.js";
export { parseJsonWithPositions, JsonSyntaxError, type JsonPosition, type PositionedJson } from "./json-text.js";
export { encodeCheckpoint, decodeCheckpoint, type CheckpointData, type DecodedCheckpoint, type OptimizerStateData, type OptimizerSlot, type DecodeOptions } from "./train/checkpoint.js";
export { modelToJSON, weightsToBytes, modelFromJSON, MODEL_FORMAT, MODEL_VERSION, type ModelJSON, type WeightEntry, type FloatDType, type LoadOptions } from "./graph/serialize.js";

// PC graphs: any topology, clamp-anything queries, PC and iPC
export { fullyConnected, hierarchical, topologyFromMask, resolveTopology, groupActivations, TopologyError, type PCGraphSpec, type GroupSpec, type EdgeSpec, type GroupActivation, type Group, type Edge, type Topology, type GroupList } from "./pc/graph/topology.js";
export { PCGraphModel, type PCGraphModelOptions, type WeightInit } from "./pc/graph/model.js";
export { PCGraphState, type Freedom } from "./pc/graph/state.js";
export { Energy, PredictionErrors, type EnergyTerm } from "./pc/graph/energy.js";
export { relax, relaxation, evaluate as evaluateEnergy, inferenceStep as graphInferenceStep, residual, RelaxationError, type RelaxOptions, type RelaxResult } from "./pc/graph/relax.js";
export { pcLearning, incrementalLearning, learningStep, clipGradients, gradientBuffers, type ParameterUpdater, type ClipOptions, type LearningOptions, type LearningResult } from "./pc/graph/schedules.js";
export { initializeValues, type ValueInit } from "./pc/graph/init.js";
export { loadQuery, type QueryClamps, type ClampValue, type GroupData } from "./pc/graph/query.js";
export { pcGraphToJSON, pcGraphFromJSON, pcGraphWeightsToBytes, PC_GRAPH_FORMAT, PC_GRAPH_VERSION, type PCGraphJSON } from "./pc/graph/serialize.js";
export type { StepEvent, StepListener } from "./pc/steps.js";
export { PCGraph, pcLearningAlgorithms, type PCLearningAlgorithm, type PCGraphOptions, type Query, type QueryResult, type QueryStep, type LearnOptions, type RelaxSettings } from "./train/pc-graph.js";
export { fitPCGraph, pcGraphAccuracy, type PCGraphFitOptions, type PCGraphHistory, type PCGraphEpochRecord, type PCGraphBatchInfo, type PCGraphProgress, type PCGraphCheckpoint } from "./train/pc-graph-fit.js";
export { visibleMask, completeImages, completionError, denoiseImages, denoisingError, generateImages, noisyImages, meanImage, type CompletionRegion, type TaskOptions } from "./train/pc-graph-tasks.js";
export { encodePCGraphCheckpoint, decodePCGraphCheckpoint, type PCGraphCheckpointData, type DecodedPCGraphCheckpoint } from "./train/checkpoint.js";
export { energyCurvesSvg, type EnergySeries } from "./train/energy-plot.js";
export type { ParameterSet } from "./train/optimizers.js";

// Energy-based learning: the Hopfield energy and the nudged loss as PC-graph energy terms,
// EqProp and CHL as schedules, and their float64 oracle
export { EnergyBasedNetwork, layeredNetwork, hopfieldEnergy, nudgedPCEnergy, energyBasedQueryDefaults, type EnergyBasedOptions, type EnergyBasedEvaluation } from "./train/energy-based.js";
export { equilibriumDefaults, type EquilibriumSettings, type EquilibriumLearningResult } from "./train/equilibrium-learning.js";
export { HopfieldEnergy, levelsBelowTop, type HopfieldOptions } from "./pc/graph/hopfield.js";
export { NudgedLoss } from "./pc/graph/nudge.js";
export {
  equilibriumGradient, checkEquilibriumOptions, equilibriumAlgorithms, type EquilibriumAlgorithm, type EquilibriumOptions, type EquilibriumResult,
  type Nudging, type ChlClamp, type NonConvergence, type PhaseSettings, type PhaseResult,
} from "./pc/graph/equilibrium.js";
export { equilibriumReference, solveEquilibrium, clampedResponseReference, type EquilibriumProblem, type EquilibriumReference, type EquilibriumSolveOptions } from "./reference/equilibrium.js";
