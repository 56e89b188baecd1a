import { describe, it, expect } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  DDSKETCH_ALPHA, DDSKETCH_MAX_BINS, QUANTILE_EXACT_LIMIT, approxQuantileAcc, quantileContAcc, type QuantileState,
} from '../../../src/hot/accumulators/quantile.js';

const QS = [0, 0.25, 0.5, 0.95, 0.99, 1];

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function fill(q: number, xs: readonly number[]): QuantileState {
  const acc = quantileContAcc(q);
  const s = acc.create();
  for (const x of xs) acc.add(s, x);
  return s;
}

/** quantile_cont over sorted values, plus the bracketing order statistics. */
function exact(sorted: Float64Array, q: number): { v: number; lo: number; hi: number; f: number } {
  const pos = (sorted.length - 1) * q;
  const lo = sorted[Math.floor(pos)] as number;
  const hi = sorted[Math.ceil(pos)] as number;
  const f = pos - Math.floor(pos);
  return { v: f === 0 ? lo : lo * (1 - f) + hi * f, lo, hi, f };
}

describe('quantile_cont exact mode', () => {
  it('equals DuckDB quantile_cont bit for bit on random doubles and integers', async () => {
    const r = rng(42);
    const sizes = [1, 2, 3, 7, 10, 100, 1001, QUANTILE_EXACT_LIMIT];
    const groups = sizes.flatMap((n, g) => [
      { g: 2 * g, xs: Array.from({ length: n }, () => (r() - 0.3) * 10 ** (r() * 12 - 4)) },
      { g: 2 * g + 1, xs: Array.from({ length: n }, () => Math.floor((r() - 0.5) * 2000)) },
    ]);
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    await conn.run('CREATE TEMP TABLE t (g INTEGER, x DOUBLE, i BIGINT)');
    for (const { g, xs } of groups) {
      const rows = xs.map((x) => (g % 2 === 0 ? `(${g}, '${x}'::DOUBLE, NULL)` : `(${g}, NULL, ${x})`));
      await conn.run(`INSERT INTO t VALUES ${rows.join(', ')}`);
    }
    let compared = 0;
    for (const q of QS) {
      const res = await conn.runAndReadAll(`SELECT g, quantile_cont(x, ${q}), quantile_cont(i, ${q}) FROM t GROUP BY g ORDER BY g`);
      for (const [g, dx, di] of res.getRows()) {
        const group = groups[Number(g)];
        if (group === undefined) throw new Error(`group ${String(g)}`);
        const ours = quantileContAcc(q).result(fill(q, group.xs));
        expect(ours).toBe(Number(group.g % 2 === 0 ? dx : di));
        expect(approxQuantileAcc(q).result(fill(q, group.xs))).toBe(ours);
        compared++;
      }
    }
    expect(compared).toBe(QS.length * groups.length);
    conn.closeSync();
  });

  it('returns NULL for an empty group and orders NaN last', () => {
    expect(quantileContAcc(0.5).result(quantileContAcc(0.5).create())).toBeNull();
    expect(quantileContAcc(1).result(fill(1, [3, NaN, 1]))).toBeNaN();
    expect(quantileContAcc(0.5).result(fill(0.5, [3, NaN, 1]))).toBe(3);
    expect(() => quantileContAcc(1.5)).toThrow(RangeError);
  });
});

describe('quantile_cont sketch mode (DDSketch)', () => {
  const dists: Record<string, (r: () => number) => number> = {
    uniform: (r) => r() * 1000,
    lognormal: (r) => Math.exp(1 + 2 * normal(r)),
    'normal(0, 100) with negatives': (r) => 100 * normal(r),
    'mixed-sign lognormal': (r) => (r() < 0.3 ? -1 : 1) * Math.exp(3 * normal(r)),
  };
  const probes = [0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

  it('stays within relative error α of the exact quantile on 100k values', () => {
    const parts: string[] = [];
    let seed = 7;
    for (const [name, gen] of Object.entries(dists)) {
      const r = rng(seed++);
      const xs = Array.from({ length: 100_000 }, () => gen(r));
      const sorted = Float64Array.from(xs).sort();
      let maxRel = 0;
      for (const q of probes) {
        const s = fill(q, xs);
        expect(s.sk).not.toBeNull();
        const est = quantileContAcc(q).result(s) as number;
        const e = exact(sorted, q);
        // Guarantee: |est − exact| ≤ α·((1−f)|v[lo]| + f|v[hi]|) (= α·|exact| without a sign change).
        const bound = DDSKETCH_ALPHA * ((1 - e.f) * Math.abs(e.lo) + e.f * Math.abs(e.hi));
        expect(Math.abs(est - e.v)).toBeLessThanOrEqual(bound * (1 + 1e-9));
        maxRel = Math.max(maxRel, Math.abs(est - e.v) / Math.abs(e.v));
      }
      parts.push(`${name} ${(maxRel * 100).toFixed(3)}%`);
      expect(maxRel).toBeLessThanOrEqual(DDSKETCH_ALPHA * (1 + 1e-9));
    }
    console.log(`DDSketch (α=1%) max relative error over q∈{${probes.join(',')}} on 100k values: ${parts.join('; ')}`);
  });

  it('merges exact+exact, exact+sketch and sketch+sketch into the sketch of the whole', () => {
    const acc = quantileContAcc(0.9);
    const r = rng(3);
    const xs = Array.from({ length: 20_000 }, () => Math.exp(3 * normal(r)) * (r() < 0.2 ? -1 : 1));
    const whole = fill(0.9, xs);
    const snap = JSON.stringify(acc.snapshot(whole));

    const halves = acc.merge(fill(0.9, xs.slice(0, 10_000)), fill(0.9, xs.slice(10_000)));
    expect(JSON.stringify(acc.snapshot(halves))).toBe(snap);

    const small = fill(0.9, xs.slice(0, 1000));
    expect(small.sk).toBeNull();
    const rest = fill(0.9, xs.slice(1000));
    expect(JSON.stringify(acc.snapshot(acc.merge(small, rest)))).toBe(snap);
    const rest2 = fill(0.9, xs.slice(0, 19_000));
    expect(JSON.stringify(acc.snapshot(acc.merge(rest2, fill(0.9, xs.slice(19_000)))))).toBe(snap);

    const a = fill(0.9, xs.slice(0, 3000));
    const b = fill(0.9, xs.slice(3000, 4000));
    expect(acc.merge(a, b).sk).toBeNull();
    expect(acc.result(a)).toBe(acc.result(fill(0.9, xs.slice(0, 4000))));
    expect(acc.merge(a, fill(0.9, xs.slice(4000, 5000))).sk).not.toBeNull();
  });

  it('round-trips snapshots through JSON in both modes (NaN, ±Infinity, -0 included)', () => {
    const acc = quantileContAcc(0.75);
    for (const n of [50, 9000]) {
      const r = rng(n);
      const xs = [NaN, Infinity, -Infinity, -0, 0, ...Array.from({ length: n }, () => normal(r) * 1e3)];
      const s = fill(0.75, xs);
      const back = acc.restore(JSON.parse(JSON.stringify(acc.snapshot(s))));
      expect(acc.result(back)).toBe(acc.result(s));
      for (const x of xs) { acc.add(s, x * 7); acc.add(back, x * 7); }
      expect(acc.result(back)).toBe(acc.result(s));
      expect(JSON.stringify(acc.snapshot(back))).toBe(JSON.stringify(acc.snapshot(s)));
    }
  });

  it('orders ±Infinity and NaN like DuckDB and collapses only the lowest bins', () => {
    // 10^-60..10^60 needs ~13,900 bins: only the top 2,048 (values ≥ ~10^42, the top ~15%) stay exact.
    const xs = Array.from({ length: 10_000 }, (_, i) => 10 ** (-60 + (120 * i) / 10_000));
    const s = fill(0.99, [...xs, Infinity, -Infinity, NaN]);
    const at = (q: number): number => quantileContAcc(q).result(s) as number;
    expect(at(0)).toBe(-Infinity);
    expect(at(1)).toBeNaN();
    const sk = s.sk;
    if (sk === null) throw new Error('expected a sketch');
    expect(sk.pos.max - sk.pos.min + 1).toBeLessThanOrEqual(DDSKETCH_MAX_BINS);
    expect(sk.pos.total).toBe(10_000);
    const sorted = Float64Array.from(xs).sort();
    for (const q of [0.9, 0.95, 0.99]) {
      const pos = (xs.length + 2) * q; // rank among 10,003 values; -Infinity is rank 0
      const e = exact(sorted, (pos - 1) / (xs.length - 1));
      expect(Math.abs(at(q) / e.v - 1)).toBeLessThanOrEqual(DDSKETCH_ALPHA * 1.001);
    }
    expect(at(0.5)).toBeGreaterThan(exact(sorted, 0.5).v); // collapsed into the lowest kept bin
    expect(at(0.5)).toBeLessThanOrEqual(at(0.9));
  });

  it('reports honest bytes', () => {
    const acc = quantileContAcc(0.5);
    expect(acc.bytes(fill(0.5, [1, 2, 3]))).toBeLessThan(200);
    const r = rng(9);
    const s = fill(0.5, Array.from({ length: 50_000 }, () => 1 + r() * 9999)); // 1 .. 10^4: ~460 bins
    expect(acc.bytes(s)).toBeGreaterThan(8 * 460);
    expect(acc.bytes(s)).toBeLessThan(8 * 2 * 1024);
  });
});
