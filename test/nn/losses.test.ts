/**
 * Losses against PyTorch (values and, for cross-entropy, the gradient to the logits),
 * finite-difference gradients, stability at large logits, the kernel count of
 * cross-entropy's forward and backward, and argument errors.
 */
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { checkDerivatives } from '../transforms/derivatives.js';
import { expectClose, f64, fixture } from './support.js';

type M = ma.MetalArray;

describe('crossEntropy against PyTorch', () => {
  const c = fixture.crossEntropy;
  const logits = f64(c.logits);
  interface Case {
    kind: 'indices' | 'probs';
    labelSmoothing: number;
    reduction: ma.nn.Reduction;
    ignoreIndex: number | null;
    targets: ma.NestedNumbers;
    out: ma.NestedNumbers | number;
    gradLogits: ma.NestedNumbers;
  }
  for (const k of c.cases as Case[]) {
    it(`${k.kind}, smoothing ${k.labelSmoothing}, ${k.reduction}, ignore ${k.ignoreIndex}: value and gradient`, () => {
      const targets = k.kind === 'indices' ? ma.array(k.targets, 'int32') : f64(k.targets);
      const options: ma.nn.CrossEntropyOptions = {
        labelSmoothing: k.labelSmoothing,
        reduction: k.reduction,
        ...(k.ignoreIndex === null ? {} : { ignoreIndex: k.ignoreIndex }),
      };
      expectClose('loss', ma.nn.crossEntropy(logits, targets, options), k.out, 1e-12);
      const g = ma.grad((z: M) => ma.nn.crossEntropy(z, targets, options).sum())(logits);
      expectClose('d/dlogits', g, k.gradLogits, 1e-12);
    }, 120_000);
  }

  it('a class axis other than the last', () => {
    const a = fixture.crossEntropyAxis1;
    expectClose('axis 1', ma.nn.crossEntropy(f64(a.logits), ma.array(a.targets, 'int32'), { axis: 1 }), a.out, 1e-12);
  });

  it('stays finite for huge logits (logsumexp)', () => {
    const z = ma.array([[1000, -1000, 0]], 'float32');
    const loss = ma.nn.crossEntropy(z, ma.array([1], 'int32'));
    expect(loss.item()).toBe(2000);
    const g = ma.grad((a: M) => ma.nn.crossEntropy(a, ma.array([1], 'int32')))(z);
    expect(g.tolist()).toEqual([[1, -1, 0]]);
  });

  it('forward and backward of [512, 1000] logits run in at most 4 kernels', () => {
    const logits32 = ma.random.normal(ma.random.key(1), [512, 1000]).eval();
    const labels = ma.random.randint(ma.random.key(2), [512], 0, 1000).eval();
    const [loss, g] = ma.valueAndGrad((z: M) => ma.nn.crossEntropy(z, labels, { labelSmoothing: 0.1 }))(logits32);
    ma.resetMetrics();
    ma.eval(loss, g);
    expect(ma.metrics().kernelLaunches).toBeLessThanOrEqual(4);
  }, 300_000);
});

describe('other losses against PyTorch', () => {
  it('nllLoss with an ignore index', () => {
    const c = fixture.nllLoss;
    const t = ma.array(c.targets, 'int32');
    expectClose('mean', ma.nn.nllLoss(f64(c.logProbs), t, { ignoreIndex: c.ignoreIndex }), c.mean, 1e-12);
    expectClose('sum', ma.nn.nllLoss(f64(c.logProbs), t, { ignoreIndex: c.ignoreIndex, reduction: 'sum' }), c.sum, 1e-12);
  });

  it('binaryCrossEntropy from logits and from probabilities', () => {
    const c = fixture.binaryCrossEntropy;
    const y = f64(c.targets);
    expectClose('logits mean', ma.nn.binaryCrossEntropy(f64(c.logits), y), c.fromLogitsMean, 1e-12);
    expectClose('logits none', ma.nn.binaryCrossEntropy(f64(c.logits), y, { reduction: 'none' }), c.fromLogitsNone, 1e-12);
    expectClose('probs mean', ma.nn.binaryCrossEntropy(f64(c.probs), y, { fromLogits: false }), c.fromProbsMean, 1e-12);
    expectClose('probs sum', ma.nn.binaryCrossEntropy(f64(c.probs), y, { fromLogits: false, reduction: 'sum' }), c.fromProbsSum, 1e-12);
    // PyTorch clamps the log at -100: p = 0 with target 1 costs 100, not infinity.
    expect(ma.nn.binaryCrossEntropy(ma.array([0], 'float32'), ma.array([1], 'float32'), { fromLogits: false }).item()).toBe(100);
  }, 120_000);

  it('mseLoss, l1Loss, klDiv', () => {
    const r = fixture.regression;
    const a = f64(r.a);
    const b = f64(r.b);
    expectClose('mse', ma.nn.mseLoss(a, b), r.mse, 1e-12);
    expectClose('mse sum', ma.nn.mseLoss(a, b, { reduction: 'sum' }), r.mseSum, 1e-12);
    expectClose('l1', ma.nn.l1Loss(a, b), r.l1, 1e-12);
    expectClose('l1 none', ma.nn.l1Loss(a, b, { reduction: 'none' }), r.l1None, 1e-12);
    const k = fixture.klDiv;
    for (const reduction of ['mean', 'sum', 'batchmean'] as const) {
      expectClose(`klDiv ${reduction}`, ma.nn.klDiv(f64(k.input), f64(k.target), { reduction }), k[reduction], 1e-12);
    }
    const kl = fixture.klDivLog;
    expectClose('klDiv logTarget', ma.nn.klDiv(f64(kl.input), f64(kl.target), { logTarget: true, reduction: 'sum' }), kl.sum, 1e-12);
  }, 120_000);
});

describe('loss gradients by finite differences', () => {
  it('crossEntropy (indices with smoothing and ignore, probabilities), binaryCrossEntropy, klDiv, mse', () => {
    const z = ma.random.normal(ma.random.key(3), [4, 5], 'float64');
    const t = ma.array([1, -1, 4, 0], 'int32');
    checkDerivatives('crossEntropy', (a: M) => ma.nn.crossEntropy(a, t, { labelSmoothing: 0.2, ignoreIndex: -1 }), [z]);
    const p = ma.softmax(ma.random.normal(ma.random.key(4), [4, 5], 'float64'), -1);
    checkDerivatives('crossEntropy probabilities', (a: M, b: M) => ma.nn.crossEntropy(a, b, { reduction: 'sum' }), [z, p]);
    const y = ma.array([[1, 0, 1, 0, 1]], 'float64');
    checkDerivatives('binaryCrossEntropy', (a: M) => ma.nn.binaryCrossEntropy(a, ma.broadcastTo(y, [4, 5])), [z]);
    checkDerivatives('klDiv', (a: M) => ma.nn.klDiv(ma.logSoftmax(a, -1), p, { reduction: 'batchmean' }), [z]);
    checkDerivatives('mseLoss', (a: M, b: M) => ma.nn.mseLoss(a, b), [z, p]);
  }, 300_000);
});

describe('loss errors', () => {
  const z = ma.zeros([3, 4]);
  it('shapes, dtypes and options are checked', () => {
    expect(() => ma.nn.crossEntropy(z, ma.array([0, 1], 'int32'))).toThrow(
      /targets must have the input's shape without the class axis, \[3\]; got targets \[2\]/,
    );
    expect(() => ma.nn.crossEntropy(z, ma.zeros([3, 5]))).toThrow(/logits has shape \[3, 4\] and probability targets has shape \[3, 5\]/);
    expect(() => ma.nn.crossEntropy(z, ma.array([0, 1, 2], 'int32'), { reduction: 'avg' as 'mean' })).toThrow(/reduction must be 'none', 'mean', 'sum'/);
    expect(() => ma.nn.crossEntropy(z, ma.array([0, 1, 2], 'int32'), { labelSmoothing: 2 })).toThrow(/labelSmoothing must be in \[0, 1\]/);
    expect(() => ma.nn.crossEntropy(z, ma.zeros([3, 4]), { ignoreIndex: 0 })).toThrow(/ignoreIndex applies to class-index targets/);
    expect(() => ma.nn.crossEntropy(ma.zeros([3, 4], 'int32'), ma.array([0, 1, 2], 'int32'))).toThrow(ma.DTypeError);
    expect(() => ma.nn.crossEntropy(z, ma.array([0, 1, 2], 'int32'), { axsi: 0 } as never)).toThrow(/unknown option 'axsi'/);
    expect(() => ma.nn.mseLoss(z, ma.zeros([4, 3]))).toThrow(ma.ShapeError);
    expect(() => ma.nn.nllLoss(z, ma.zeros([3]))).toThrow(/targets must be class indices/);
    expect(() => ma.nn.klDiv(z, z, { reduction: 'batch' as 'sum' })).toThrow(/'batchmean'/);
  });
});
