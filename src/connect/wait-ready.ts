/** Polls Redpanda Connect's `/ready` until it answers 200, with a bound. */

export interface WaitReadyOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Gives up early when this returns true (e.g. the process already exited). */
  readonly abandon?: () => boolean;
}

/** True once `url` answered 200 within the bound; false on timeout or when abandoned. */
export async function waitReady(url: string, opts: WaitReadyOptions): Promise<boolean> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 100;
  while (Date.now() < deadline) {
    if (opts.abandon?.()) return false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(100, Math.min(2_000, deadline - Date.now()))) });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      // Not listening yet, or not answering: try again.
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  return false;
}
