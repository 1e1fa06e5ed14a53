/**
 * Differentiation rules of the movement and indexing nodes: views, reshapes, gathers
 * and scatters (kept out of indexing.ts for its length; they use pad, take and the
 * scatter nodes). Assembled by src/ops/differentiation.ts.
 */
import { MetalArray } from '../array/array.js';
import { constNode, elementwiseNode, gatherNode, iotaNode, type ScatterOp, scatterNode, viewNode } from '../core/build.js';
import type { ViewMap } from '../core/node.js';
import { type NodeRule, type Primitive, zeroLike } from '../transforms/rules.js';
import { astype, binary, where } from './elementwise.js';
import { pad, take } from './indexing.js';
import { concatenate } from './join.js';
import { basicSlice, broadcastTo, expandDims, flip, reshape, transpose } from './movement.js';
import { sum } from './reduce.js';

/** A zero block of `shape` in `like`'s dtype (a broadcast constant: no memory). */
function zeroBlock(like: MetalArray, shape: readonly number[]): MetalArray {
  const n = like.liveNode('vjp');
  return MetalArray.fromNode(constNode(0, shape, n.dtype, n.backend));
}

/** `g` with s - 1 zeros after each element along `axis` (the last element keeps none). */
function dilate(g: MetalArray, axis: number, s: number): MetalArray {
  const n = g.shape[axis];
  const spread = expandDims(g, axis + 1);
  const gapShape = spread.shape;
  gapShape[axis + 1] = s - 1;
  const joined = concatenate([spread, zeroBlock(g, gapShape)], axis + 1);
  const merged = g.shape.slice();
  merged[axis] = n * s;
  const flat = reshape(joined, merged);
  return basicSlice(
    flat,
    merged.map((_, d) => (d === axis ? [0, (n - 1) * s + 1] : [null, null]) as [number | null, number | null]),
  );
}

/**
 * The transpose of a view: the cotangent of each input element is the sum of the output
 * cotangents that read it. Broadcast dims are summed, negative steps flipped, strides
 * spread with zeros, and the read window padded to the input's extent.
 */
function viewTranspose(g: MetalArray, map: ViewMap, inShape: readonly number[]): MetalArray {
  if (g.size === 0) return zeroBlock(g, inShape);
  const summed: number[] = [];
  const kept: { j: number; step: number; start: number; n: number }[] = [];
  g.shape.forEach((n, d) => {
    const j = map.inDim[d];
    if (j < 0 || map.step[d] === 0) summed.push(d);
    else kept.push({ j, step: map.step[d], start: map.start[j], n });
  });
  let out = summed.length > 0 ? sum(g, summed) : g;
  const flipped = kept.flatMap((k, i) => (k.step < 0 && k.n > 1 ? [i] : []));
  if (flipped.length > 0) out = flip(out, flipped);
  for (const k of kept) {
    if (k.step < 0) {
      k.start += k.step * (k.n - 1);
      k.step = -k.step;
    }
  }
  const order = kept.map((_, i) => i).sort((a, b) => kept[a].j - kept[b].j);
  if (order.some((v, i) => v !== i)) out = transpose(out, order);
  const byInput = new Map(kept.map((k) => [k.j, k]));
  out = reshape(
    out,
    inShape.map((_, j) => byInput.get(j)?.n ?? 1),
  );
  const widths = inShape.map((size, j): [number, number] => {
    const k = byInput.get(j);
    if (k === undefined) return [map.start[j], size - map.start[j] - 1];
    let len = k.n;
    if (k.step > 1 && k.n > 1) {
      out = dilate(out, j, k.step);
      len = (k.n - 1) * k.step + 1;
    }
    return [k.start, size - k.start - len];
  });
  return widths.some(([b, e]) => b > 0 || e > 0) ? pad(out, widths) : out;
}

/** A view: linear, so forward mode applies the same view; reverse mode its transpose. */
export const viewRule: NodeRule = {
  vjp({ node, inputs }, g) {
    return [viewTranspose(g, node.view as ViewMap, inputs[0].shape)];
  },
  jvp({ node }, [t]) {
    return MetalArray.fromNode(viewNode((t as MetalArray).liveNode('jvp'), node.view as ViewMap, node.shape));
  },
};

/** A reshape: the cotangent reshaped back. */
export const reshapeRule: NodeRule = {
  vjp({ inputs }, g) {
    return [reshape(g, inputs[0].shape)];
  },
  jvp({ node }, [t]) {
    return reshape(t as MetalArray, node.shape);
  },
};

/** An index array as the gather kernel reads it (int64): negative counts from the end once, then clamped. */
function wrappedIndex(index: MetalArray, size: number): MetalArray {
  const idx = astype(index, 'int64');
  const wrapped = where(binary('less', idx, 0), binary('add', idx, size), idx);
  return binary('minimum', binary('maximum', wrapped, 0), Math.max(size - 1, 0));
}

/**
 * Gathers along one axis with at most this many indices per line get their cotangent
 * in the one-hot form below (a reduction that fuses with its neighbours, as in a
 * cross-entropy's `takeAlongAxis` of the labels); longer ones scatter-add (linear work).
 */
const ONE_HOT_MAX = 16;

/** d[..., j, ...] = Σ_k g[..., k, ...] · (index[..., k, ...] == j): the gather's transpose as a reduction. */
function oneHotTranspose(node: Primitive, inputs: readonly MetalArray[], g: MetalArray): MetalArray {
  const ax = (node.axes as readonly number[])[0];
  const n = inputs[0].shape[ax];
  const idx = expandDims(wrappedIndex(inputs[1], n), ax + 1);
  const placed = [...g.shape.map(() => 1), 1];
  placed[ax + 1] = n;
  const j = reshape(MetalArray.fromNode(iotaNode([n], 'int64', node.backend)), placed);
  return sum(where(binary('equal', idx, j), expandDims(g, ax + 1), 0), ax);
}

/**
 * The linear positions (int64, contiguous) of the data elements a gather node reads:
 * its index arrays wrapped and clamped as the gather kernel does, the other dims their
 * own coordinate.
 */
function gatherPositions(node: Primitive, inputs: readonly MetalArray[]): MetalArray {
  const data = inputs[0];
  const shape = node.shape;
  const axes = node.axes as readonly number[];
  let stride = 1;
  const strides = data.shape.map(() => 0);
  for (let d = data.ndim - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= data.shape[d];
  }
  let linear: MetalArray | null = null;
  for (let d = 0; d < data.ndim; d++) {
    const k = axes.indexOf(d);
    let coord: MetalArray;
    const size = data.shape[d];
    if (k >= 0) {
      coord = wrappedIndex(inputs[1 + k], size);
    } else {
      const placed = shape.map((n, e) => (e === d ? n : 1));
      coord = reshape(MetalArray.fromNode(iotaNode([shape[d]], 'int64', node.backend)), placed);
    }
    const term = binary('multiply', coord, strides[d]);
    linear = linear === null ? term : binary('add', linear, term);
  }
  const full = broadcastTo(linear ?? MetalArray.fromNode(constNode(0n, [], 'int64', node.backend)), shape);
  return MetalArray.fromNode(elementwiseNode('copy', [full.liveNode('vjp')], shape, 'int64'));
}

/** Contiguous copy of `x` (a scatter's updates and positions must be materialized). */
function contiguous(x: MetalArray): MetalArray {
  const n = x.liveNode('vjp');
  return MetalArray.fromNode(elementwiseNode('copy', [n], n.shape, n.dtype));
}

/** A gather: forward mode gathers the tangent; reverse mode adds the cotangent back where it was read. */
export const gatherRule: NodeRule = {
  vjp({ node, inputs }, g, wanted) {
    if (!wanted[0]) return inputs.map(() => null);
    const data = inputs[0];
    const axes = node.axes as readonly number[];
    if (axes.length === 1 && node.shape[axes[0]] <= ONE_HOT_MAX) return [oneHotTranspose(node, inputs, g), ...inputs.slice(1).map(() => null)];
    const positions = gatherPositions(node, inputs);
    const base = zeroBlock(data, data.shape);
    const summed = scatterNode(base.liveNode('vjp'), positions.liveNode('vjp'), contiguous(g).liveNode('vjp'), 'add');
    return [MetalArray.fromNode(summed), ...inputs.slice(1).map(() => null)];
  },
  jvp({ node, inputs }, [t]) {
    return MetalArray.fromNode(
      gatherNode(
        (t as MetalArray).liveNode('jvp'),
        inputs.slice(1).map((x) => x.liveNode('jvp')),
        node.axes as readonly number[],
      ),
    );
  },
};

/** The elements of `g` at linear `positions` (0 where a position is -1: an update the mode dropped). */
function atPositions(g: MetalArray, positions: MetalArray): MetalArray {
  const flat = reshape(g, [-1]);
  const safe = binary('maximum', positions, 0);
  return where(binary('less', positions, 0), 0, reshape(take(flat, reshape(safe, [-1])), positions.shape));
}

/** at().add: the base's cotangent passes through; each update's is the cotangent where it landed. */
const scatterAddRule: NodeRule = {
  vjp({ inputs }, g, wanted) {
    return [wanted[0] ? g : null, null, wanted[2] ? atPositions(g, inputs[1]) : null];
  },
  jvp({ node, inputs }, [tb, , tu]) {
    const base = tb ?? zeroLike(inputs[0]);
    const upd = tu ?? zeroLike(inputs[2]);
    return MetalArray.fromNode(scatterNode(base.liveNode('jvp'), inputs[1].liveNode('jvp'), contiguous(upd).liveNode('jvp'), node.op as ScatterOp));
  },
};

/**
 * at().set: the overwritten base elements get no cotangent; each update gets the
 * cotangent where it landed (with repeated positions every update gets it, although
 * only the last one survives, as JAX leaves unspecified).
 */
const scatterSetRule: NodeRule = {
  vjp({ inputs }, g, wanted) {
    const positions = inputs[1];
    const cleared = wanted[0]
      ? MetalArray.fromNode(scatterNode(g.liveNode('vjp'), positions.liveNode('vjp'), zeroBlock(g, positions.shape).liveNode('vjp'), 'set'))
      : null;
    return [cleared, null, wanted[2] ? atPositions(g, positions) : null];
  },
  jvp: scatterAddRule.jvp,
};

/** The scatters' rules by combine op. */
export const scatterRules = {
  set: scatterSetRule,
  add: scatterAddRule,
  multiply: { noRule: 'differentiate x.multiply(...) written with where, or wrap it in customVjp' },
  maximum: { noRule: 'write it as ma.maximum on a gathered selection, or wrap it in customVjp' },
  minimum: { noRule: 'write it as ma.minimum on a gathered selection, or wrap it in customVjp' },
} as const;
