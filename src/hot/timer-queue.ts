/**
 * Event-time timers: a binary min-heap of (time, item), as Flink and Kafka Streams keep their
 * timers in a priority queue. `push` and `pop` cost O(log n); `popDue(t)` hands over every item
 * due at or before `t` in time order. Callers cancel by lazy deletion: they check a popped item
 * against their own state and ignore stale ones (a session that grew or merged pushes a new
 * timer instead of moving the old one). Memory: one entry per push not yet popped.
 */
export class TimerQueue<T> {
  readonly #times: number[] = [];
  readonly #items: T[] = [];

  get size(): number { return this.#times.length; }

  /** Time of the earliest timer, or +∞ when none. */
  peekTime(): number { return this.#times.length > 0 ? (this.#times[0] as number) : Number.POSITIVE_INFINITY; }

  push(time: number, item: T): void {
    const times = this.#times;
    const items = this.#items;
    let i = times.length;
    times.push(time);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((times[parent] as number) <= time) break;
      times[i] = times[parent] as number;
      items[i] = items[parent] as T;
      i = parent;
    }
    times[i] = time;
    items[i] = item;
  }

  /** Removes and returns the earliest item (undefined when empty). */
  pop(): T | undefined {
    const times = this.#times;
    const items = this.#items;
    if (times.length === 0) return undefined;
    const top = items[0] as T;
    const lastTime = times.pop() as number;
    const lastItem = items.pop() as T;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (times[r] as number) < (times[l] as number) ? r : l;
        if ((times[c] as number) >= lastTime) break;
        times[i] = times[c] as number;
        items[i] = items[c] as T;
        i = c;
      }
      times[i] = lastTime;
      items[i] = lastItem;
    }
    return top;
  }

  /** Every item whose time is ≤ `time`, earliest first. */
  popDue(time: number): T[] {
    const out: T[] = [];
    while (this.#times.length > 0 && (this.#times[0] as number) <= time) out.push(this.pop() as T);
    return out;
  }

  clear(): void {
    this.#times.length = 0;
    this.#items.length = 0;
  }
}
