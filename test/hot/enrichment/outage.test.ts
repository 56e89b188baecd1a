/**
 * The short form of `npm run chaos -- --scenario=enrichment`: the lookup service dead for 2 s
 * mid-run at a fixed offered rate; the stream keeps its no-enrichment rate (≥ 0.9 over the
 * outage), the breaker opens and closes again, fallbacks are counted and no event is lost.
 */
import { describe, expect, it } from 'vitest';
import { enrichmentOutage } from '../../../chaos/enrichment-outage.js';

describe('enrichment service outage', () => {
  it('keeps the stream flowing: breaker opens and closes, fallbacks counted, every event folded', async () => {
    const r = await enrichmentOutage({ rate: 1000, beforeMs: 1000, outageMs: 2000, afterMs: 1500, keys: 300, cacheTtl: '500ms', resetTimeout: '300ms', timeout: '150ms', window: '1s' });
    expect(r.enrichedEvents).toBe(r.baselineEvents);
    expect(r.ratio).toBeGreaterThanOrEqual(0.9);
    expect(r.stats.opened).toBeGreaterThanOrEqual(1);
    expect(r.stats.closed).toBeGreaterThanOrEqual(1);
    expect(r.stats.state).toBe('closed');
    expect(r.stats.fallbacks.timeout + r.stats.fallbacks.breaker_open).toBeGreaterThan(0);
  }, 30_000);
});
