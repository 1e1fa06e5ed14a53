/**
 * nanoGPT's model as `ma.nn` modules: token and position `Embedding`s, pre-LayerNorm
 * `Block`s (causal multi-head self-attention through `ma.fast.scaledDotProductAttention`,
 * then a GELU MLP of `Linear`s, each added to the residual stream), a final `LayerNorm`
 * and a head tied to the token embedding (`Embedding.asLinear`).
 *
 * As nanoGPT's defaults (`bias = False`): no biases in the linear layers or LayerNorms.
 * Initialization as nanoGPT: every weight matrix and embedding N(0, 0.02), the residual
 * projections N(0, 0.02 / sqrt(2 L)), LayerNorm scales 1.
 *
 * Dropout masks come from keys passed to `forward` (one per dropout site, folded from the
 * step's key), so a resumed run draws the same masks as an uninterrupted one. The
 * attention op has no dropout on the attention weights: with dropout > 0 this model drops
 * only the embeddings and the residual branches (nanoGPT's flash path applies it to the
 * weights too).
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

const INIT_STD = 0.02;

/** N(0, std²) of `shape`, evaluated (initial weights are materialized once). */
function normalInit(key: ma.MetalArray, shape: number[], std: number): ma.MetalArray {
  return ma.random.normal(key, shape, 'float32').multiply(std).eval();
}

/** A bias-free Linear with nanoGPT's normal initialization. */
function linear(inputDims: number, outputDims: number, key: ma.MetalArray, std: number): ma.nn.Linear {
  const layer = new ma.nn.Linear(inputDims, outputDims, { bias: false, key });
  layer.weight = normalInit(key, [outputDims, inputDims], std);
  return layer;
}

/** Hands out one dropout key per site of a forward pass (undefined: no dropout). */
class SiteKeys {
  private site = 0;
  constructor(private readonly base: ma.MetalArray | undefined) {}
  next(): ma.MetalArray | undefined {
    return this.base === undefined ? undefined : ma.random.foldIn(this.base, this.site++);
  }
}

function dropout(layer: ma.nn.Dropout, x: ma.MetalArray, keys: SiteKeys): ma.MetalArray {
  const key = keys.next();
  return key === undefined ? x : layer.forward(x, key);
}

/** Causal self-attention: q, k, v from one projection, heads through the fused attention op. */
export class CausalSelfAttention extends ma.nn.Module {
  qkv: ma.nn.Linear;
  proj: ma.nn.Linear;
  residDropout: ma.nn.Dropout;
  readonly nHead: number;

  constructor(c: ModelConfig, key: ma.MetalArray) {
    super();
    this.nHead = c.nHead;
    this.qkv = linear(c.nEmbd, 3 * c.nEmbd, ma.random.foldIn(key, 0), INIT_STD);
    this.proj = linear(c.nEmbd, c.nEmbd, ma.random.foldIn(key, 1), INIT_STD / Math.sqrt(2 * c.nLayer));
    this.residDropout = new ma.nn.Dropout(c.dropout, { key: ma.random.foldIn(key, 2) });
  }

  forward(x: ma.MetalArray, keys: SiteKeys): ma.MetalArray {
    const [batch, time, channels] = x.shape as [number, number, number];
    const headDim = channels / this.nHead;
    const qkv = this.qkv.forward(x).reshape([batch, time, 3, this.nHead, headDim]);
    const heads = ma.transpose(qkv, [2, 0, 3, 1, 4]); // [3, B, H, T, D]
    const [q, k, v] = ma.split(heads, 3, 0).map((a) => a.reshape([batch, this.nHead, time, headDim]));
    const attended = ma.fast.scaledDotProductAttention(q, k, v, { causal: true });
    const merged = ma.transpose(attended, [0, 2, 1, 3]).reshape([batch, time, channels]);
    return dropout(this.residDropout, this.proj.forward(merged), keys);
  }
}

/** The MLP: Linear to 4·C, GELU, Linear back (the residual projection), dropout. */
export class Mlp extends ma.nn.Module {
  fc: ma.nn.Linear;
  proj: ma.nn.Linear;
  dropout: ma.nn.Dropout;

  constructor(c: ModelConfig, key: ma.MetalArray) {
    super();
    this.fc = linear(c.nEmbd, 4 * c.nEmbd, ma.random.foldIn(key, 0), INIT_STD);
    this.proj = linear(4 * c.nEmbd, c.nEmbd, ma.random.foldIn(key, 1), INIT_STD / Math.sqrt(2 * c.nLayer));
    this.dropout = new ma.nn.Dropout(c.dropout, { key: ma.random.foldIn(key, 2) });
  }

  forward(x: ma.MetalArray, keys: SiteKeys): ma.MetalArray {
    return dropout(this.dropout, this.proj.forward(ma.nn.gelu(this.fc.forward(x))), keys);
  }
}

/** A pre-LayerNorm transformer block. */
export class Block extends ma.nn.Module {
  ln1: ma.nn.LayerNorm;
  attn: CausalSelfAttention;
  ln2: ma.nn.LayerNorm;
  mlp: Mlp;

  constructor(c: ModelConfig, key: ma.MetalArray) {
    super();
    this.ln1 = new ma.nn.LayerNorm(c.nEmbd, { bias: false });
    this.attn = new CausalSelfAttention(c, ma.random.foldIn(key, 0));
    this.ln2 = new ma.nn.LayerNorm(c.nEmbd, { bias: false });
    this.mlp = new Mlp(c, ma.random.foldIn(key, 1));
  }

  forward(x: ma.MetalArray, keys: SiteKeys): ma.MetalArray {
    const h = x.add(this.attn.forward(this.ln1.forward(x), keys));
    return h.add(this.mlp.forward(this.ln2.forward(h), keys));
  }
}

/** The character-level GPT. */
export class GPT extends ma.nn.Module {
  wte: ma.nn.Embedding;
  wpe: ma.nn.Embedding;
  drop: ma.nn.Dropout;
  blocks: Block[];
  lnF: ma.nn.LayerNorm;
  readonly config: ModelConfig;

  /** A fresh model whose every draw comes from its own key folded from `key`. */
  constructor(config: ModelConfig, key: ma.MetalArray) {
    super();
    this.config = { ...config };
    const { vocabSize, blockSize, nLayer, nEmbd } = config;
    const embedding = (rows: number, k: ma.MetalArray): ma.nn.Embedding => {
      const e = new ma.nn.Embedding(rows, nEmbd, { key: k });
      e.weight = normalInit(k, [rows, nEmbd], INIT_STD);
      return e;
    };
    this.wte = embedding(vocabSize, ma.random.foldIn(key, 0));
    this.wpe = embedding(blockSize, ma.random.foldIn(key, 1));
    this.drop = new ma.nn.Dropout(config.dropout, { key: ma.random.foldIn(key, 2) });
    this.blocks = [];
    for (let l = 0; l < nLayer; l++) this.blocks.push(new Block(config, ma.random.foldIn(key, 3 + l)));
    this.lnF = new ma.nn.LayerNorm(nEmbd, { bias: false });
  }

  /**
   * Logits [B, T, vocab] for token ids [B, T] (T ≤ blockSize). With `dropoutKey` (and the
   * model in training mode) each dropout site draws its mask from its own key folded from
   * it; without, no dropout.
   */
  forward(idx: ma.MetalArray, dropoutKey?: ma.MetalArray): ma.MetalArray {
    const time = idx.shape[1] as number;
    const keys = new SiteKeys(this.training && this.config.dropout > 0 ? dropoutKey : undefined);
    const positions = this.wpe.forward(ma.arange(0, time));
    let x = dropout(this.drop, this.wte.forward(idx).add(positions), keys); // [B, T, C]
    for (const block of this.blocks) x = block.forward(x, keys);
    return this.wte.asLinear(this.lnF.forward(x));
  }
}

/** The parameters AdamW decays: every tensor of 2+ dimensions, as nanoGPT (the weight matrices and embeddings). */
export function isDecayed(param: ma.MetalArray): boolean {
  return param.ndim >= 2;
}
