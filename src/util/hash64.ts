/**
 * A 64-bit string hash, as two independent 32-bit lanes, that allocates nothing: it writes
 * the lanes to an `out` pair (by default the module-level {@link HASH}), so a hot path can hash
 * every event without creating an array or a BigInt.
 *
 * Both lanes read the string's UTF-16 code units (`charCodeAt`), one xor-multiply step each:
 * - `hi`: FNV-1a 32 (Fowler–Noll–Vo; offset basis 0x811c9dc5, prime 0x01000193, see
 *   http://www.isthe.com/chongo/tech/comp/fnv/), with a 16-bit code unit as the input "octet";
 * - `lo`: the same FNV-1a structure with another start value (0x9747b28c) and another odd
 *   multiplier (0x5bd1e995, the `m` of Austin Appleby's MurmurHash2), so the lanes are not
 *   functions of each other;
 * and each finishes with the length folded in and MurmurHash3's `fmix32` finalizer (Austin
 * Appleby, public domain, https://github.com/aappleby/smhasher, `src/MurmurHash3.cpp`), which
 * spreads every input bit over the whole word (FNV-1a alone mixes low bits poorly, and callers
 * index tables with the low bits).
 *
 * Not cryptographic: equal hashes do not prove equal strings, so callers that must be exact
 * compare the strings when the hashes match. Lanes are signed 32-bit integers (`| 0`), which
 * V8 keeps unboxed and which store into an `Int32Array` unchanged.
 */

/** The two 32-bit lanes of a 64-bit hash, as signed 32-bit integers. */
export interface Hash64 {
  hi: number;
  lo: number;
}

/** A function computing a {@link Hash64} of `s` into `out` (the shape of {@link hash64}). */
export type Hash64Fn = (s: string, out: Hash64) => void;

/** The default output of {@link hash64}: read `HASH.hi` and `HASH.lo` right after the call. */
export const HASH: Hash64 = { hi: 0, lo: 0 };

/** MurmurHash3's 32-bit finalizer: a bijection on 32-bit words with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Hashes `s` into `out.hi` and `out.lo` (see the module comment). */
export function hash64(s: string, out: Hash64 = HASH): void {
  let a = 0x811c_9dc5 | 0;
  let b = 0x9747_b28c | 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x0100_0193);
    b = Math.imul(b ^ c, 0x5bd1_e995);
  }
  out.hi = fmix32(a ^ n);
  out.lo = fmix32(b ^ n);
}
