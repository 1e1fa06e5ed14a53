/**
 * `ma.nn.valueAndGrad(model, lossFn)`, MLX's `nn.value_and_grad`: the loss function
 * reads the model (closed over); the gradient is taken with respect to the model's
 * trainable parameters, by swapping them for the transformation's primals for the
 * duration of the call and putting the originals back afterwards.
 */
import type { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { ArgumentError, formatValue } from '../errors.js';
import { valueAndGrad as transformValueAndGrad } from '../transforms/grad.js';
import { Module, type ParameterTree } from './module.js';

/** Options of `nn.valueAndGrad`. */
export interface ModuleValueAndGradOptions {
  /** `lossFn` returns `[loss, aux]`; the result is then `[[loss, aux], grads]` (default false). */
  readonly hasAux?: boolean;
}

/**
 * A function that runs `lossFn(...args)` and returns `[loss, grads]`: `grads` is the
 * gradient of the scalar loss with respect to `model.trainableParameters()`, a tree of
 * the same layout (frozen parameters are constants). The model's parameters are the same
 * arrays after the call as before; apply the gradients with `model.update` or an
 * optimizer.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const model = new ma.nn.Linear(2, 1, { key: ma.random.key(0) });
 * const lossFn = (x: ma.MetalArray, y: ma.MetalArray) => ma.nn.mseLoss(model.forward(x), y);
 * const step = ma.nn.valueAndGrad(model, lossFn);
 * const [loss, grads] = step(ma.ones([4, 2]), ma.zeros([4, 1]));
 * console.log(loss.shape, Object.keys(grads)); // [] [ 'weight', 'bias' ]
 * ```
 */
export function valueAndGrad<A extends unknown[]>(model: Module, lossFn: (...args: A) => MetalArray): (...args: A) => [MetalArray, ParameterTree];
export function valueAndGrad<A extends unknown[], Aux>(
  model: Module,
  lossFn: (...args: A) => [MetalArray, Aux],
  options: ModuleValueAndGradOptions & { readonly hasAux: true },
): (...args: A) => [[MetalArray, Aux], ParameterTree];
export function valueAndGrad<A extends unknown[]>(
  model: Module,
  lossFn: (...args: A) => unknown,
  options?: ModuleValueAndGradOptions,
): (...args: A) => [unknown, ParameterTree] {
  const op = 'nn.valueAndGrad';
  checkArgCount(op, arguments.length, 3, 'valueAndGrad(model, lossFn, { hasAux })');
  if (!(model instanceof Module)) throw new ArgumentError(`${op}: model must be an ma.nn.Module, got ${formatValue(model)}`);
  if (typeof lossFn !== 'function') throw new ArgumentError(`${op}: lossFn must be a function, got ${formatValue(lossFn)}`);
  const { hasAux = false } = checkOptions(op, options, ['hasAux']);
  const inner = (params: ParameterTree, ...args: A): MetalArray => {
    model.update(params);
    return lossFn(...args) as MetalArray;
  };
  // One call for both forms: the overloads of the transformation only differ in types.
  const transformed = (
    transformValueAndGrad as (f: typeof inner, argnums: number, options: { hasAux: boolean }) => (...a: [ParameterTree, ...A]) => [unknown, unknown]
  )(inner, 0, { hasAux });
  return (...args: A): [unknown, ParameterTree] => {
    const trainable = model.trainableParameters();
    try {
      const [value, grads] = transformed(trainable, ...args);
      return [value, grads as ParameterTree];
    } finally {
      model.update(trainable);
    }
  };
}
