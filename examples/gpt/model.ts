/**
 * nanoGPT's model as pure functions over a parameter tree: token and position embeddings,
 * pre-LayerNorm blocks (causal multi-head self-attention, then a GELU MLP, each added to
 * the residual stream), a final LayerNorm and a head tied to the token embedding.
 *
 * As nanoGPT's defaults (`bias = False`): no biases in the linear layers or LayerNorms.
 * Weights are stored [in, out] so a layer is `x @ w`. Initialization as nanoGPT: every
 * weight matrix and embedding N(0, 0.02), the residual projections N(0, 0.02 / sqrt(2 L)),
 * LayerNorm scales 1.
 */
import * as ma from '../../src/index.js';

/** The model's shape and regularization. */
export interface ModelConfig {
  vocabSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  dropout: number;
}

export type BlockParams = {
  ln1: ma.MetalArray;
  qkv: ma.MetalArray;
  attnProj: ma.MetalArray;
  ln2: ma.MetalArray;
  fc: ma.MetalArray;
  mlpProj: ma.MetalArray;
};

export type GptParams = {
  wte: ma.MetalArray;
  wpe: ma.MetalArray;
  blocks: BlockParams[];
  lnF: ma.MetalArray;
};

const INIT_STD = 0.02;
const LAYER_NORM_EPS = 1e-5;

/** Fresh parameters from `key` (every draw from its own folded-in key, so the order of draws does not matter). */
export function initParams(config: ModelConfig, key: ma.MetalArray): GptParams {
  const { vocabSize, blockSize, nLayer, nEmbd } = config;
  let site = 0;
  const normal = (shape: number[], std: number): ma.MetalArray => ma.random.normal(ma.random.foldIn(key, site++), shape, 'float32').multiply(std).eval();
  const residualStd = INIT_STD / Math.sqrt(2 * nLayer);
  const wte = normal([vocabSize, nEmbd], INIT_STD);
  const wpe = normal([blockSize, nEmbd], INIT_STD);
  const blocks: BlockParams[] = [];
  for (let l = 0; l < nLayer; l++) {
    blocks.push({
      ln1: ma.ones([nEmbd], 'float32'),
      qkv: normal([nEmbd, 3 * nEmbd], INIT_STD),
      attnProj: normal([nEmbd, nEmbd], residualStd),
      ln2: ma.ones([nEmbd], 'float32'),
      fc: normal([nEmbd, 4 * nEmbd], INIT_STD),
      mlpProj: normal([4 * nEmbd, nEmbd], residualStd),
    });
  }
  return { wte, wpe, blocks, lnF: ma.ones([nEmbd], 'float32') };
}

/** Parameters by flat name (`blocks.0.qkv`…), the order used for checkpoints and the optimizer. */
export function namedParams(params: GptParams): [string, ma.MetalArray][] {
  const out: [string, ma.MetalArray][] = [
    ['wte', params.wte],
    ['wpe', params.wpe],
  ];
  params.blocks.forEach((b, l) => {
    for (const [k, v] of Object.entries(b) as [keyof BlockParams, ma.MetalArray][]) out.push([`blocks.${l}.${k}`, v]);
  });
  out.push(['lnF', params.lnF]);
  return out;
}

/** Rebuilds a parameter tree from named arrays (the inverse of {@link namedParams}). */
export function paramsFromNamed(named: Readonly<Record<string, ma.MetalArray>>, nLayer: number): GptParams {
  const get = (name: string): ma.MetalArray => {
    const a = named[name];
    if (a === undefined) throw new Error(`checkpoint: parameter '${name}' is missing`);
    return a;
  };
  const blocks: BlockParams[] = [];
  for (let l = 0; l < nLayer; l++) {
    const p = `blocks.${l}.`;
    blocks.push({
      ln1: get(`${p}ln1`),
      qkv: get(`${p}qkv`),
      attnProj: get(`${p}attnProj`),
      ln2: get(`${p}ln2`),
      fc: get(`${p}fc`),
      mlpProj: get(`${p}mlpProj`),
    });
  }
  return { wte: get('wte'), wpe: get('wpe'), blocks, lnF: get('lnF') };
}

/** Number of parameters (the tied head counted once, as nanoGPT's report minus position embeddings does not: all counted). */
export function parameterCount(params: GptParams): number {
  return namedParams(params).reduce((n, [, a]) => n + a.size, 0);
}

function layerNorm(x: ma.MetalArray, weight: ma.MetalArray): ma.MetalArray {
  const mean = ma.mean(x, -1, true);
  const centered = x.subtract(mean);
  const variance = ma.mean(centered.square(), -1, true);
  return centered.multiply(ma.rsqrt(variance.add(LAYER_NORM_EPS))).multiply(weight);
}

/** Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). */
function dropout(x: ma.MetalArray, p: number, key: ma.MetalArray | null): ma.MetalArray {
  if (key === null || p === 0) return x;
  const keepMask = ma.random.bernoulli(key, 1 - p, x.shape);
  return ma.where(keepMask, x.multiply(1 / (1 - p)), 0);
}

/**
 * Logits [B, T, vocab] for token ids [B, T] (T ≤ blockSize). `dropoutKey` null is
 * evaluation mode (no dropout); otherwise each dropout site draws from its own key.
 */
export function forward(params: GptParams, idx: ma.MetalArray, config: ModelConfig, dropoutKey: ma.MetalArray | null): ma.MetalArray {
  const [batch, time] = idx.shape;
  const { nHead, nEmbd, dropout: p } = config;
  const headDim = nEmbd / nHead;
  let site = 0;
  const siteKey = (): ma.MetalArray | null => (dropoutKey === null || p === 0 ? null : ma.random.foldIn(dropoutKey, site++));

  const positions = ma.slice(params.wpe, ma.range(0, time));
  let x = ma.take(params.wte, idx, 0).add(positions); // [B, T, C]
  x = dropout(x, p, siteKey());
  const causal = ma.tril(ma.ones([time, time], 'bool'));
  const scale = 1 / Math.sqrt(headDim);

  for (const block of params.blocks) {
    // Attention: q, k, v from one matmul, heads split to [B, H, T, D].
    const qkv = ma.matmul(layerNorm(x, block.ln1), block.qkv).reshape([batch, time, 3, nHead, headDim]);
    const heads = ma.transpose(qkv, [2, 0, 3, 1, 4]); // [3, B, H, T, D]
    const [q, k, v] = ma.split(heads, 3, 0).map((a) => a.reshape([batch, nHead, time, headDim]));
    const scores = ma.matmul(q, ma.swapaxes(k, -1, -2)).multiply(scale);
    const weights = dropout(ma.softmax(ma.where(causal, scores, Number.NEGATIVE_INFINITY), -1), p, siteKey());
    const attended = ma.transpose(ma.matmul(weights, v), [0, 2, 1, 3]).reshape([batch, time, nEmbd]);
    x = x.add(dropout(ma.matmul(attended, block.attnProj), p, siteKey()));
    // MLP.
    const hidden = ma.gelu(ma.matmul(layerNorm(x, block.ln2), block.fc));
    x = x.add(dropout(ma.matmul(hidden, block.mlpProj), p, siteKey()));
  }
  return ma.matmul(layerNorm(x, params.lnF), ma.swapaxes(params.wte, 0, 1));
}

/** Mean cross-entropy of logits [B, T, V] against target ids [B, T]. */
export function crossEntropy(logits: ma.MetalArray, targets: ma.MetalArray): ma.MetalArray {
  const logProbs = ma.logSoftmax(logits, -1);
  return ma.takeAlongAxis(logProbs, ma.expandDims(targets, -1), -1).mean().negative();
}

/** The training loss of a batch, as a function of the parameters (what `valueAndGrad` differentiates). */
export function lossFn(params: GptParams, inputs: ma.MetalArray, targets: ma.MetalArray, config: ModelConfig, dropoutKey: ma.MetalArray | null): ma.MetalArray {
  return crossEntropy(forward(params, inputs, config, dropoutKey), targets);
}
