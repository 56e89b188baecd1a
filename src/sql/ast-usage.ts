/**
 * Which parts of a parsed statement the binder read. node-sql-parser records far more than
 * pitwall's dialect has meaning for (`NULLS FIRST`, `ESCAPE`, `COLLATE`, window frames, `OR
 * REPLACE`, …). Instead of listing the constructs to reject, the statement is handed to the
 * binder through a view that records every property read; after binding, any property that
 * holds something and was never read is a construct the binder did not handle, and the metric
 * is rejected rather than run without it. New parser features are therefore rejected by
 * default, never silently dropped.
 */

/** Read through a tracked view to get the plain object behind it (reads via it are not recorded). */
const RAW = Symbol('pitwall.rawAst');

/**
 * Keys that carry no meaning of their own: `loc` is the position, and `parentheses` marks a
 * group whose effect (precedence) is already in the tree's shape.
 */
const NEUTRAL_KEYS: ReadonlySet<string> = new Set(['loc', 'parentheses']);

/** A property the binder never read, with the position of the nearest node the parser located. */
export interface UnreadProperty {
  /** The node holding the property (the plain object). */
  readonly node: object;
  readonly key: string;
  readonly value: unknown;
  /** Character offset of the nearest enclosing node with a location (0 when none). */
  readonly nearOffset: number;
}

/** The plain object behind a tracked view (or `value` itself when it is not one). */
export function rawAst<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  return ((value as { [RAW]?: T })[RAW] ?? value);
}

/** True for values that hold nothing: null, undefined, false, '', and arrays / objects of such. */
function isEmpty(value: unknown, budget = 64): boolean {
  if (value === null || value === undefined || value === false || value === '') return true;
  if (typeof value !== 'object' || budget <= 0) return false;
  const values: unknown[] = Array.isArray(value) ? value : Object.entries(value).filter(([k]) => !NEUTRAL_KEYS.has(k)).map(([, v]) => v);
  return values.every((v) => isEmpty(v, budget - 1));
}

/**
 * Records the reads of one statement. {@link AstUsage.root} is the statement as a tracked view:
 * every object reached through it is a tracked view too (the same view for the same object, so
 * identity comparisons keep working). Generic walks that are not binding (searching for an
 * aggregate, locating a node) should go through {@link rawAst} so that they do not count as reads.
 */
export class AstUsage {
  readonly #raw: object;
  readonly #read = new WeakMap<object, Set<string>>();
  readonly #views = new WeakMap<object, object>();
  readonly root: unknown;

  constructor(statement: object) {
    this.#raw = rawAst(statement);
    this.root = this.#track(this.#raw);
  }

  #track(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    const target = rawAst(value);
    const known = this.#views.get(target);
    if (known) return known;
    const read = new Set<string>();
    this.#read.set(target, read);
    const view = new Proxy(target, {
      get: (t, key) => {
        if (key === RAW) return t;
        if (typeof key === 'string') read.add(key);
        return this.#track(Reflect.get(t, key, t));
      },
    });
    this.#views.set(target, view);
    return view;
  }

  /**
   * Every property, anywhere in the statement, that holds something but was never read, in
   * document order (depth first). Walks iteratively: the statement's depth is bounded before
   * binding, but this must not be the place that overflows.
   */
  unread(): UnreadProperty[] {
    const out: UnreadProperty[] = [];
    const stack: { value: unknown; near: number }[] = [{ value: this.#raw, near: 0 }];
    const seen = new Set<object>();
    while (stack.length > 0) {
      const { value, near } = stack.pop() as { value: unknown; near: number };
      if (typeof value !== 'object' || value === null || seen.has(value)) continue;
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], near });
        continue;
      }
      const loc = (value as { loc?: { start?: { offset?: unknown } } }).loc?.start?.offset;
      const here = typeof loc === 'number' ? loc : near;
      const read = this.#read.get(value);
      const next: { value: unknown; near: number }[] = [];
      for (const [key, v] of Object.entries(value)) {
        if (NEUTRAL_KEYS.has(key) || isEmpty(v)) continue;
        // A node's `type` counts as read once anything else of it is: the binder reaches a node
        // at a place that fixes what it can be, and dispatches on `type` where that varies.
        const seen = read !== undefined && (read.has(key) || (key === 'type' && read.size > (read.has('type') ? 1 : 0)));
        if (!seen) out.push({ node: value, key, value: v, nearOffset: here });
        else next.push({ value: v, near: here });
      }
      stack.push(...next.reverse());
    }
    return out;
  }
}
