// Losses at the output node, averaged over the batch:
//   mse:                 L = 1/(2B) sum_b |mu_b - t_b|^2
//   softmaxCrossEntropy: L = -1/B sum_b sum_j t_bj log softmax(mu_b)_j
// `outputError` writes e_out = -weight * dL/dmu: the error unit of the clamped output in
// PC, and minus the starting delta of backprop. For cross-entropy this is
// weight * (t - softmax(mu)) / B, so PC targets the same gradient as BP.
import { ShapeError } from "../backend/errors.js";
import { formatShape, type Tensor } from "../tensor.js";
import { withScratch } from "../scratch.js";

export type LossName = "mse" | "softmaxCrossEntropy";
export const lossNames: readonly LossName[] = ["mse", "softmaxCrossEntropy"];

function checkTarget(loss: LossName, prediction: Tensor, target: Tensor): void {
  if (target.size !== prediction.size || target.shape[0] !== prediction.shape[0])
    throw new ShapeError(`${loss}: target ${formatShape(target.shape)} does not match the output ${formatShape(prediction.shape)}`);
}

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
    k.softmaxRows(batch, prediction.size / batch, prediction.address, out.address);
    k.sub(out.size, target.address, out.address, out.address);
  }
  if (scale !== 1) k.scale(out.size, scale, out.address, out.address);
}
