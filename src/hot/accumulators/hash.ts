/**
 * A fast, allocation-free 64-bit hash of an accumulator value, for sketches (HyperLogLog).
 * Two 32-bit lanes are computed in one pass over the same input words: lane A uses the
 * MurmurHash3 x86_32 block mix and fmix32 finaliser, lane B the xxHash32 round and avalanche,
 * with different seeds, so the two halves come from different mixing functions and are
 * independent for practical purposes (a collision in one lane does not imply one in the other).
 * Not cryptographic: inputs are not adversarial here.
 */
import type { AccValue } from './accumulator.js';

const TAG_NUMBER = 0x6e756d31;
const TAG_STRING = 0x73747231;
const TAG_BOOL = 0x626f6f31;

const M1 = 0xcc9e2d51;
const M2 = 0x1b873593;
const X1 = 0x9e3779b1;
const X2 = 0x85ebca77;
const X3 = 0xc2b2ae3d;
const SEED_A = 0x2545f491;
const SEED_B = 0x6c8e9cf5;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

let a = 0;
let b = 0;

function word(k: number): void {
  let x = Math.imul(k, M1);
  x = (x << 15) | (x >>> 17);
  a ^= Math.imul(x, M2);
  a = (a << 13) | (a >>> 19);
  a = (Math.imul(a, 5) + 0xe6546b64) | 0;
  b = (b + Math.imul(k, X2)) | 0;
  b = (b << 13) | (b >>> 19);
  b = Math.imul(b, X1);
}

/**
 * Hashes `v` into `out[0]` (lane A) and `out[1]` (lane B), 64 bits in all. Values are encoded
 * type-distinctly (1, '1' and true hash differently); -0 hashes as 0 and every NaN alike, so
 * the hash agrees with `Set` equality (SameValueZero). Strings are hashed as UTF-16 code units.
 */
export function hash64(v: AccValue, out: Uint32Array): void {
  a = SEED_A;
  b = SEED_B;
  let len: number;
  if (typeof v === 'number') {
    word(TAG_NUMBER);
    f64[0] = v === 0 ? 0 : v;
    if (v !== v) { u32[0] = 0; u32[1] = 0x7ff80000; }
    word(u32[0] as number);
    word(u32[1] as number);
    len = 8;
  } else if (typeof v === 'string') {
    word(TAG_STRING);
    const n = v.length;
    let i = 0;
    for (; i + 1 < n; i += 2) word(v.charCodeAt(i) | (v.charCodeAt(i + 1) << 16));
    if (i < n) word(v.charCodeAt(i) | 0x10000000);
    len = 2 * n;
  } else {
    word(TAG_BOOL);
    word(v ? 1 : 0);
    len = 1;
  }
  let h = a ^ len;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, X3);
  h ^= h >>> 16;
  let g = (b + len) | 0;
  g ^= g >>> 15; g = Math.imul(g, X2);
  g ^= g >>> 13; g = Math.imul(g, X3);
  g ^= g >>> 16;
  out[0] = h;
  out[1] = g;
}
