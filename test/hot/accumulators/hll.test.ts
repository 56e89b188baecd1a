import { describe, it, expect } from 'vitest';
import type { AccValue } from '../../../src/hot/accumulators/accumulator.js';
import { approxCountDistinctAcc as acc, HLL_EXACT_LIMIT, type HllState } from '../../../src/hot/accumulators/hll.js';

function fill(values: Iterable<AccValue>, s: HllState = acc.create()): HllState {
  for (const v of values) acc.add(s, v);
  return s;
}

function* range(from: number, to: number, f: (i: number) => AccValue, step = 1): Generator<AccValue> {
  for (let i = from; i < to; i += step) yield f(i);
}

const roundTrip = (s: HllState): HllState => acc.restore(JSON.parse(JSON.stringify(acc.snapshot(s))));

describe('approx_count_distinct', () => {
  it('is exact up to the threshold, with type-distinct values', () => {
    const s = acc.create();
    for (let rep = 0; rep < 3; rep++) fill(range(0, HLL_EXACT_LIMIT - 3, (i) => i), s);
    fill([1, '1', true, false, -0, 0], s);
    expect(acc.result(s)).toBe(HLL_EXACT_LIMIT);
    expect(s.regs).toBeNull();
    acc.add(s, 'one more');
    expect(s.regs).not.toBeNull();
    expect(s.set).toBeNull();
    expect(acc.result(acc.create())).toBe(0);
  });

  it('has a relative error within 5% (≈3σ of 1.6%) at 2k..1M distinct values', () => {
    const parts: string[] = [];
    for (const n of [2_000, 10_000, 100_000, 1_000_000]) {
      const num = acc.result(fill(range(0, n, (i) => i * 3 + 0.25))) as number;
      const str = acc.result(fill(range(0, n, (i) => `user-${i}`))) as number;
      const eNum = num / n - 1;
      const eStr = str / n - 1;
      parts.push(`n=${n}: numbers ${(eNum * 100).toFixed(2)}%, strings ${(eStr * 100).toFixed(2)}%`);
      expect(Math.abs(eNum)).toBeLessThanOrEqual(0.05);
      expect(Math.abs(eStr)).toBeLessThanOrEqual(0.05);
    }
    console.log(`approx_count_distinct measured relative error (p=12, σ≈1.6%): ${parts.join('; ')}`);
  });

  it('counts duplicates once in HLL mode (the estimate does not move)', () => {
    const s = fill(range(0, 20_000, (i) => i));
    const before = acc.result(s);
    fill(range(0, 20_000, (i) => i), s);
    expect(acc.result(s)).toBe(before);
    fill(range(0, 20_000, (i) => String(i)), s); // '7' is not 7
    expect(Math.abs((acc.result(s) as number) / 40_000 - 1)).toBeLessThan(0.05);
  });

  it('merges two halves into exactly the registers of the whole', () => {
    const whole = fill(range(0, 50_000, (i) => `k${i}`));
    const a = fill(range(0, 50_000, (i) => `k${i}`, 2));
    const b = fill(range(1, 50_000, (i) => `k${i}`, 2));
    expect(acc.merge(a, b).regs).toEqual(whole.regs);
    expect(acc.result(a)).toBe(acc.result(whole));
  });

  it('merges exact with exact (staying exact or switching) and exact with HLL', () => {
    const a = fill(range(0, 600, (i) => i));
    const b = fill(range(300, 900, (i) => i));
    acc.merge(a, b);
    expect(a.regs).toBeNull();
    expect(acc.result(a)).toBe(900);

    const c = fill(range(0, 1000, (i) => i));
    const d = fill(range(1000, 2000, (i) => i));
    const whole = fill(range(0, 2000, (i) => i));
    expect(acc.merge(c, d).regs).toEqual(whole.regs);

    const big = fill(range(0, 5000, (i) => i));
    const expected = fill(range(0, 5000, (i) => i));
    const small = fill(range(4000, 4500, (i) => i));
    expect(acc.merge(small, big).regs).toEqual(expected.regs); // exact into HLL
    expect(big.regs).toEqual(expected.regs); // the second argument is not mutated
    expect(acc.merge(big, fill(range(4500, 5000, (i) => i))).regs).toEqual(expected.regs); // HLL with exact
  });

  it('round-trips snapshots through JSON in both modes', () => {
    for (const n of [10, 5000]) {
      const s = fill(range(0, n, (i) => (i % 3 === 0 ? `s${i}` : i % 3 === 1 ? i : i % 2 === 0)));
      fill([NaN, Infinity, -Infinity, -0], s);
      const r = roundTrip(s);
      expect(acc.result(r)).toBe(acc.result(s));
      if (s.set !== null) expect(r.set).toEqual(s.set);
      fill(range(0, 3000, (i) => `more${i}`), s);
      fill(range(0, 3000, (i) => `more${i}`), r);
      expect(acc.result(r)).toBe(acc.result(s));
      expect(r.regs).toEqual(s.regs);
    }
  });

  it('reports ~4 KB in HLL mode', () => {
    const s = fill(range(0, 10_000, (i) => i));
    expect(acc.bytes(s)).toBeGreaterThanOrEqual(4096);
    expect(acc.bytes(s)).toBeLessThan(4500);
    expect(acc.bytes(fill(range(0, 100, (i) => i)))).toBeLessThan(4096 * 2);
  });
});
