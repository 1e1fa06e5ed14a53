/**
 * Threefry-2x32 (20 rounds) on the host, for keys: `random.key`, `split` and `foldIn`
 * compute their few words here and upload them, so a key is always a small evaluated
 * array and never a growing graph. The same cipher as the device version in random.ts
 * (the same rotation and key-schedule constants, wrapping uint32 arithmetic), bit for bit.
 */

/** Threefry-2x32's rotation constants (from the Random123 paper). */
export const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;
/** The key-schedule parity constant of Threefry. */
export const KS_PARITY = 0x1bd11bda;

/**
 * Encrypts the counter pair (x0, x1) under the key (k0, k1); writes the two output
 * words to out[at], out[at + stride]. Inputs are taken as uint32 (`>>> 0`).
 */
export function threefryHost(k0: number, k1: number, x0: number, x1: number, out: Uint32Array, at: number, stride: number): void {
  const ks0 = k0 >>> 0;
  const ks1 = k1 >>> 0;
  const ks2 = (ks0 ^ ks1 ^ KS_PARITY) >>> 0;
  let a = ((x0 >>> 0) + ks0) >>> 0;
  let b = ((x1 >>> 0) + ks1) >>> 0;
  for (let round = 0; round < 20; round++) {
    const r = ROTATIONS[round & 7];
    a = (a + b) >>> 0;
    b = (((b << r) | (b >>> (32 - r))) ^ a) >>> 0;
    if ((round & 3) === 3) {
      const s = (round + 1) >> 2;
      const m = s % 3;
      a = (a + (m === 0 ? ks0 : m === 1 ? ks1 : ks2)) >>> 0;
      const m1 = (s + 1) % 3;
      b = (b + (m1 === 0 ? ks0 : m1 === 1 ? ks1 : ks2) + s) >>> 0;
    }
  }
  out[at] = a;
  out[at + stride] = b;
}

/**
 * JAX's `split` layout: the counters are 0..2n-1, the first half encrypted as x0 against
 * the second half as x1, and the 2n output words (all first words, then all second
 * words) read row-major as n keys of two words.
 */
export function splitHost(k0: number, k1: number, n: number): Uint32Array {
  const words = new Uint32Array(2 * n);
  for (let j = 0; j < n; j++) threefryHost(k0, k1, j, n + j, words, j, n);
  return words;
}

/** JAX's `fold_in`: the cipher of the counter pair (0, data) under the key. */
export function foldInHost(k0: number, k1: number, data: number): Uint32Array {
  const words = new Uint32Array(2);
  threefryHost(k0, k1, 0, data, words, 0, 1);
  return words;
}
