/**
 * Random keys for layers. Every layer that draws (initial weights, Dropout's masks)
 * takes an explicit key; without one it takes the next key of the module-level stream,
 * which `ma.nn.seed(n)` restarts, so a program that builds the same layers in the same
 * order after `seed(n)` gets the same weights. A stream derives key i as
 * `foldIn(base, i)`: each key is one small graph, not a chain through all earlier keys.
 */
import { checkArgCount } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import { ArgumentError, formatValue } from '../errors.js';
import { foldIn, key as randomKey } from '../ops/random.js';

/**
 * A stream of random keys from one seed or key: `next()` gives a new key each call.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const keys = new ma.nn.KeyStream(7);
 * const a = ma.random.uniform(keys.next(), [2]);
 * const b = ma.random.uniform(keys.next(), [2]);
 * console.log(ma.all(ma.equal(a, b)).item()); // false
 * ```
 */
export class KeyStream {
  private readonly base: MetalArray;
  private counter = 0;

  constructor(seed: number | bigint | MetalArray) {
    if (seed instanceof MetalArray) this.base = seed;
    else if ((typeof seed === 'number' && Number.isInteger(seed)) || typeof seed === 'bigint') this.base = randomKey(seed);
    else throw new ArgumentError(`KeyStream: seed must be an integer or a key from ma.random.key, got ${formatValue(seed)}`);
  }

  /**
   * The next key of the stream.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const keys = new ma.nn.KeyStream(0);
   * console.log(keys.next().shape); // [ 2 ]
   * ```
   */
  next(): MetalArray {
    return foldIn(this.base, this.counter++);
  }
}

let defaultStream: KeyStream | undefined;

/**
 * Restarts the module-level key stream that layers built without a `key` draw from.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * ma.nn.seed(3);
 * const a = new ma.nn.Linear(2, 2);
 * ma.nn.seed(3);
 * const b = new ma.nn.Linear(2, 2);
 * console.log(ma.all(ma.equal(a.weight, b.weight)).item()); // true
 * ```
 */
export function seed(value: number | bigint): void {
  checkArgCount('nn.seed', arguments.length, 1, 'nn.seed(value)');
  defaultStream = new KeyStream(value);
}

/** The key a layer uses: the one given, or the next of the module-level stream. */
export function keyOrNext(op: string, key: unknown): MetalArray {
  if (key === undefined) {
    defaultStream ??= new KeyStream(0);
    return defaultStream.next();
  }
  if (!(key instanceof MetalArray)) throw new ArgumentError(`${op}: key must be a key from ma.random.key, got ${formatValue(key)}`);
  return key;
}
