// Losses at the output node, averaged over the batch:
//   mse:                 L = 1/(2B) sum_b |mu_b - t_b|^2
//   softmaxCrossEntropy: L = -1/B sum_b sum_j t_bj log softmax(mu_b)_j
// `outputError` writes e_out = -weight * dL/dmu: the error unit of the clamped output in
// PC, and minus the starting delta of backprop. For cross-entropy,
//   dL/dmu_b = (softmax(mu_b) * sum_j t_bj - t_b) / B,
// which is the familiar (softmax - t) / B only when a target row sums to 1; rows that do
// not (two-hot, unnormalised soft labels) get the softmax scaled by their sum, so BP and
// every PC algorithm follow the gradient of the loss they report.
import { ShapeError } from "../backend/errors.js";
import { formatShape, type Tensor } from "../tensor.js";
import { withScratch } from "../scratch.js";

/** The losses at the output node: mean squared error (halved) or softmax cross-entropy, both averaged over the batch. */
export type LossName = "mse" | "softmaxCrossEntropy";
export const lossNames: readonly LossName[] = ["mse", "softmaxCrossEntropy"];

function checkTarget(loss: LossName, prediction: Tensor, target: Tensor): void {
  if (target.size !== prediction.size || target.shape[0] !== prediction.shape[0])
    throw new ShapeError(`${loss}: target ${formatShape(target.shape)} does not match the output ${formatShape(prediction.shape)}`);
}

/** The loss of `prediction` against `target`, averaged over the batch (see the file comment for the formulas). */
export function lossValue(loss: LossName, prediction: Tensor, target: Tensor): number {
  checkTarget(loss, prediction, target);
  const k = prediction.backend;
  const batch = prediction.shape[0];
  return withScratch(k, prediction.shape, (scratch) => {
    if (loss === "mse") {
      k.sub(prediction.size, prediction.address, target.address, scratch.address);
      return k.sumSquares(scratch.size, scratch.address) / (2 * batch);
    }
    const classes = prediction.size / batch;
    k.logSoftmaxRows(batch, classes, prediction.address, scratch.address);
    k.mul(scratch.size, scratch.address, target.address, scratch.address);
    return -k.sum(scratch.size, scratch.address) / batch;
  });
}

/** out = -weight * dL/dmu at mu = prediction. */
export function outputError(loss: LossName, prediction: Tensor, target: Tensor, out: Tensor, weight = 1): void {
  checkTarget(loss, prediction, target);
  const k = prediction.backend;
  const batch = prediction.shape[0];
  const scale = weight / batch;
  if (loss === "mse") {
    k.sub(out.size, target.address, prediction.address, out.address);
  } else {
    const classes = prediction.size / batch;
    k.softmaxRows(batch, classes, prediction.address, out.address);
    const rowSums = withScratch(k, [batch], (sums) => {
      k.rowSum(batch, classes, target.address, sums.address);
      return sums.dataSync();
    });
    for (let b = 0; b < batch; b++)
      if (rowSums[b] !== 1) k.scale(classes, rowSums[b], out.address + b * classes, out.address + b * classes);
    k.sub(out.size, target.address, out.address, out.address);
  }
  if (scale !== 1) k.scale(out.size, scale, out.address, out.address);
}
