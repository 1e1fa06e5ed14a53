/**
 * The character tokenizer, the 90/10 train/validation split and batch sampling, as nanoGPT's
 * shakespeare_char: the vocabulary is the sorted set of characters in the text, a batch is
 * `batchSize` windows of `blockSize + 1` characters starting at uniformly drawn offsets
 * (inputs the first `blockSize`, targets the last `blockSize`).
 */
import { readFileSync } from 'node:fs';
import * as ma from '../../src/index.js';

export class CharTokenizer {
  readonly chars: string[];
  private readonly ids: Map<string, number>;

  constructor(chars: readonly string[]) {
    this.chars = [...chars];
    this.ids = new Map(this.chars.map((c, i) => [c, i]));
  }

  /** The tokenizer of a text: its distinct characters, sorted by code point. */
  static fromText(text: string): CharTokenizer {
    return new CharTokenizer([...new Set(text)].sort());
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  encode(text: string): Int32Array {
    const out = new Int32Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const id = this.ids.get(text[i]);
      if (id === undefined) throw new Error(`tokenizer: character ${JSON.stringify(text[i])} is not in the vocabulary`);
      out[i] = id;
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]];
    return s;
  }
}

export interface Dataset {
  tokenizer: CharTokenizer;
  train: ma.MetalArray; // int32 token ids
  val: ma.MetalArray;
}

/** Reads `path` (or its first `maxChars` characters), tokenizes it and splits it 90/10. */
export function loadDataset(path: string, maxChars?: number): Dataset {
  let text = readFileSync(path, 'utf8');
  if (maxChars !== undefined) text = text.slice(0, maxChars);
  const tokenizer = CharTokenizer.fromText(text);
  const ids = tokenizer.encode(text);
  const cut = Math.floor(ids.length * 0.9);
  return { tokenizer, train: ma.array(ids.subarray(0, cut)).eval(), val: ma.array(ids.subarray(cut)).eval() };
}

/** A batch of inputs and next-character targets, both int32 [batchSize, blockSize], from `key`. */
export function getBatch(data: ma.MetalArray, batchSize: number, blockSize: number, key: ma.MetalArray): [ma.MetalArray, ma.MetalArray] {
  const starts = ma.random.randint(key, [batchSize, 1], { low: 0, high: data.size - blockSize });
  const window = starts.add(ma.arange(blockSize).reshape([1, blockSize]));
  return [ma.take(data, window, 0), ma.take(data, window.add(1), 0)];
}
