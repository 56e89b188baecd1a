/**
 * Per-group aggregate state: the group key values and one accumulator state per aggregate.
 * Compiles the key expressions, aggregate arguments and FILTER clauses of an AggregateNode
 * once, then folds events into groups with no per-event allocation beyond new groups.
 */
import type { AggregateNode } from '../plan/index.js';
import { accumulatorFor, type AccValue, type AnyAccumulator } from './accumulators/index.js';
import { compileRowExpr, type Evaluator, type Val } from './eval/compile-expr.js';
import type { AggSlot } from './group-table.js';

export interface Group {
  readonly keys: Val[];
  readonly accs: unknown[];
}

type Payload = Record<string, unknown>;

/** Encodes key values into a Map key that keeps types apart (1 vs '1', NULL vs 'null'). */
export function encodeKey(values: readonly Val[]): string {
  if (values.length === 0) return '';
  let out = '';
  for (const v of values) {
    out += v === null ? '\u0000' : typeof v === 'string' ? `s${v}` : typeof v === 'number' ? `n${v}` : v ? 'T' : 'F';
    out += '\u0001';
  }
  return out;
}

export class GroupFolder {
  readonly #keyExprs: Evaluator<Payload>[];
  readonly #accs: AnyAccumulator[];
  readonly #args: (Evaluator<Payload> | undefined)[];
  readonly #filters: (Evaluator<Payload> | undefined)[];
  readonly #keyBuf: Val[];
  /** The columnar layout of the aggregates (see group-table.ts). */
  readonly layout: { readonly slots: readonly AggSlot[]; readonly numericCols: number; readonly objectCols: number };

  constructor(node: AggregateNode) {
    this.#keyExprs = node.keys.map((k) => compileRowExpr(k.expr));
    this.#accs = node.aggregates.map(accumulatorFor);
    this.#args = node.aggregates.map((a) => (a.arg ? compileRowExpr(a.arg) : undefined));
    this.#filters = node.aggregates.map((a) => (a.filter ? compileRowExpr(a.filter) : undefined));
    this.#keyBuf = node.keys.map(() => null);
    let numericCols = 0;
    let objectCols = 0;
    const slots = node.aggregates.map((a, i): AggSlot => {
      const base = { arg: this.#args[i], filter: this.#filters[i] };
      if (a.fn === 'count' || a.fn === 'count_star') return { ...base, layout: { kind: 'count', col: numericCols++ } };
      if (a.fn === 'sum' || a.fn === 'avg') {
        const col = numericCols;
        numericCols += 3;
        // SUM of ints is exact (two-part sum), SUM and AVG of doubles compensated: see accumulators/basic.ts.
        return { ...base, layout: { kind: a.fn === 'sum' && a.type === 'int' ? 'int_sum' : a.fn, col } };
      }
      return { ...base, layout: { kind: 'object', obj: objectCols++, acc: this.#accs[i] as AnyAccumulator } };
    });
    this.layout = { slots, numericCols, objectCols };
  }

  /** The key values of the last `keyOf` call. */
  get lastKey(): readonly Val[] { return this.#keyBuf; }

  get aggregateCount(): number { return this.#accs.length; }

  /** The encoded key of `payload`; its values stay in an internal buffer until the next call. */
  keyOf(payload: Payload): string {
    const buf = this.#keyBuf;
    for (let i = 0; i < buf.length; i++) buf[i] = (this.#keyExprs[i] as Evaluator<Payload>)(payload);
    return encodeKey(buf);
  }

  /** A new group holding a copy of the key values of the last `keyOf`. */
  create(): Group {
    return { keys: [...this.#keyBuf], accs: this.#accs.map((a) => a.create()) };
  }

  /** Folds one event into `group`. */
  fold(group: Group, payload: Payload): void {
    const accs = this.#accs;
    for (let i = 0; i < accs.length; i++) {
      const filter = this.#filters[i];
      if (filter !== undefined && filter(payload) !== true) continue;
      const arg = this.#args[i];
      if (arg === undefined) {
        group.accs[i] = (accs[i] as AnyAccumulator).add(group.accs[i], 1);
        continue;
      }
      const v = arg(payload);
      if (v !== null) group.accs[i] = (accs[i] as AnyAccumulator).add(group.accs[i], v as AccValue);
    }
  }

  /** Folds `from` into `into` (same key). */
  merge(into: Group, from: Group): void {
    for (let i = 0; i < this.#accs.length; i++) into.accs[i] = (this.#accs[i] as AnyAccumulator).merge(into.accs[i], from.accs[i]);
  }

  results(group: Group): Val[] {
    return this.#accs.map((a, i) => a.result(group.accs[i]) as Val);
  }

  snapshot(group: Group): unknown {
    return [group.keys, this.#accs.map((a, i) => a.snapshot(group.accs[i]))];
  }

  restore(json: unknown): Group {
    const [keys, accs] = json as [Val[], unknown[]];
    return { keys, accs: this.#accs.map((a, i) => a.restore(accs[i])) };
  }

  /** Approximate heap bytes of a group (object, key values, accumulator states). */
  bytes(group: Group): number {
    let n = 64 + 16 * group.keys.length;
    for (const k of group.keys) if (typeof k === 'string') n += 2 * k.length;
    for (let i = 0; i < this.#accs.length; i++) n += (this.#accs[i] as AnyAccumulator).bytes(group.accs[i]);
    return n;
  }
}
