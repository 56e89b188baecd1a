/**
 * `npm run chaos`: the race-weekend fault suite on a real broker, and a table of what survived:
 * - every generator scenario at 2x, 5x and 10x its normal rate, with the faults of fault-run.ts;
 * - shedding (shedding-run.ts): 10x load for 60 s with a critical, a standard and a batch metric
 *   under `pitwall run --single --shed --backfill`; final rows must equal an unshed run;
 * - enrichment (enrichment-outage.ts, no broker): an external lookup's service dead for 30 s
 *   mid-run at 2,000, 20,000 and 60,000 events/s; the stream must keep ≥ 0.9 of its
 *   no-enrichment rate, the breaker must open and close, and every event must be folded.
 *
 * Options: `--quick` runs one small case of each (about 2 minutes); `--scenario=NAME` runs one
 * of them (a generator scenario, `shedding` or `enrichment`); `--rate=N` sets the enrichment
 * scenario's offered events/s (one rate instead of three) and `--max-in-flight=N` its lookup's
 * `max_in_flight` (default: the catalog's, 10,000); `--state-sync=changelog` runs the fault
 * suite's engine with its state in changelog topics. Brokers: PITWALL_CHAOS_BROKERS, or the test
 * broker of scripts/kafka.sh (which can also be stopped and started as a fault). Exits 1 when
 * any case misses its target.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { SCENARIOS, type Scenario } from '../src/sources/generator.js';
import { enrichmentOutage, type OutageOptions } from './enrichment-outage.js';
import { faultRun, type FaultRunResult } from './fault-run.js';
import { sheddingRun, CRITICAL_P99_TARGET_MS } from './shedding-run.js';

const quick = process.argv.includes('--quick');
const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = arg('scenario');
const stateSync = process.argv.includes('--state-sync=changelog') ? 'changelog' : 'shared';
const runs = (name: string): boolean => !only || only === name;
const failures: string[] = [];
const out = (text: string): void => { process.stdout.write(`${text}\n`); };

if (only && only !== 'shedding' && only !== 'enrichment' && !(SCENARIOS as readonly string[]).includes(only)) {
  process.stderr.write(`chaos: unknown --scenario=${only}; one of ${[...SCENARIOS, 'shedding', 'enrichment'].join(', ')}\n`);
  process.exit(2);
}

const needsBroker = !only || only !== 'enrichment';
let brokers = process.env.PITWALL_CHAOS_BROKERS;
const own = !brokers;
if (needsBroker && !brokers) brokers = execFileSync('bash', ['scripts/kafka.sh', 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop() as string;

if (brokers && (!only || (SCENARIOS as readonly string[]).includes(only))) {
  const cases: { scenario: Scenario; multiple: number }[] = quick
    ? [{ scenario: 'food-delivery', multiple: 2 }]
    : SCENARIOS.filter((s) => runs(s)).flatMap((scenario) => [2, 5, 10].map((multiple) => ({ scenario, multiple })));
  const results: FaultRunResult[] = [];
  for (const c of cases) {
    process.stderr.write(`chaos: ${c.scenario} at ${c.multiple}x…\n`);
    results.push(await faultRun({ brokers, ...c, baseRate: 150, events: quick ? 6000 : 4500 * c.multiple, brokerRestart: own, stateSync, log: (m) => process.stderr.write(`  ${m}\n`) }));
  }
  out('## Faults\n');
  out('| scenario | rate | faults | events | lost | unexplained | DLQ missing | archive dups | p99 event→result | peak RSS |');
  out('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) out(`| ${r.scenario} | ${r.multiple}x | ${r.faults} | ${r.events} | ${r.lost} | ${r.unexplained} | ${r.dlqMissing} | ${r.archiveDuplicates} | ${r.p99LatencyMs === undefined ? 'n/a' : Number.isFinite(r.p99LatencyMs) ? `≤ ${r.p99LatencyMs} ms` : 'over the top bucket (30 s)'} | ${r.peakRssMb} MB |`);
  for (const r of results) if (r.lost || r.unexplained || r.dlqMissing || r.archiveDuplicates) failures.push(`faults: ${r.scenario} at ${r.multiple}x lost or left unexplained events`);
}

if (brokers && runs('shedding')) {
  process.stderr.write(`chaos: shedding at 10x for ${quick ? 15 : 60} s…\n`);
  const r = await sheddingRun({ brokers, seconds: quick ? 15 : 60, multiple: 10, baseRate: 1_500, log: (m) => process.stderr.write(`  ${m}\n`) });
  const ms = (v: number | undefined): string => (v === undefined ? 'n/a' : Number.isFinite(v) ? `≤ ${v} ms` : 'over 60 s');
  out('\n## Shedding and backfill\n');
  out(`${r.events} events at ${r.rate}/s in 5 s bursts; ${r.shedSteps} shedding steps; final rows ${r.equal ? 'equal' : 'NOT equal'} to an unshed run (pitwall replay)`);
  out(`p99 append→result by tier: critical ${ms(r.p99AppendToResultMs.critical)} (target ${CRITICAL_P99_TARGET_MS} ms), standard ${ms(r.p99AppendToResultMs.standard)}, batch ${ms(r.p99AppendToResultMs.batch)}; p99 batch→result over all rows ${ms(r.p99LatencyMs)}\n`);
  out('| metric | tier | shed windows | backfilled windows | pending intervals | rows compared |');
  out('|---|---|---|---|---|---|');
  for (const [m, f] of Object.entries(r.metrics)) out(`| ${m} | ${f.tier} | ${f.shedWindows} | ${f.backfilledWindows} | ${f.pendingIntervals} | ${r.compared[m] ?? 0} |`);
  if (!r.equal) failures.push('shedding: final rows differ from the unshed run');
  if (Object.values(r.metrics).some((m) => m.pendingIntervals > 0)) failures.push('shedding: shed intervals left without backfill');
  if (!Object.values(r.metrics).some((m) => m.tier === 'batch' && m.shedWindows > 0)) failures.push('shedding: the batch metric was never shed (the load did not reach the threshold)');
  const critical = r.p99AppendToResultMs.critical;
  if (critical === undefined || critical > CRITICAL_P99_TARGET_MS) failures.push(`shedding: critical p99 append→result ${ms(critical)} over its ${CRITICAL_P99_TARGET_MS} ms target`);
}

if (runs('enrichment')) {
  const base: Omit<OutageOptions, 'rate'> = quick
    ? { beforeMs: 2_000, outageMs: 5_000, afterMs: 3_000, keys: 500, cacheTtl: '1s', resetTimeout: '1s', timeout: '200ms', window: '2s' }
    : { beforeMs: 10_000, outageMs: 30_000, afterMs: 20_000, keys: 2000, cacheTtl: '5s', resetTimeout: '5s', timeout: '500ms', window: '5s' };
  const given = arg('rate');
  const rates = given ? [Number(given)] : quick ? [2_000] : [2_000, 20_000, 60_000];
  const maxInFlight = arg('max-in-flight');
  out('\n## Enrichment service down mid-run\n');
  out(`service dead for ${base.outageMs / 1000} s of ${(base.beforeMs + base.outageMs + base.afterMs) / 1000} s, ${base.keys} keys, cache TTL ${base.cacheTtl}, timeout ${base.timeout}, breaker window ${base.window} and reset ${base.resetTimeout}, max_in_flight ${maxInFlight ?? 'default'}\n`);
  out('| offered | no-enrichment rate (outage) | with lookup down | ratio | worst second | breaker opened / half-opened / closed | fallbacks (timeout, breaker_open) | events folded | peak waiting | source held back |');
  out('|---|---|---|---|---|---|---|---|---|---|');
  for (const rate of rates) {
    process.stderr.write(`chaos: enrichment outage at ${rate} events/s…\n`);
    const r = await enrichmentOutage({ rate, ...base, ...(maxInFlight ? { maxInFlight: Number(maxInFlight) } : {}) });
    const f = r.stats.fallbacks;
    out(`| ${r.offered}/s | ${r.baselineRate.toFixed(0)}/s | ${r.outageRate.toFixed(0)}/s | ${r.ratio.toFixed(2)} | ${r.worstSecondRatio.toFixed(2)} | ${r.stats.opened} / ${r.stats.halfOpened} / ${r.stats.closed} | ${f.timeout}, ${f.breaker_open} | ${r.enrichedEvents} of ${r.baselineEvents} | ${r.peakWaiting} | ${r.heldBackSeconds.toFixed(1)} s |`);
    if (r.ratio < 0.9) failures.push(`enrichment at ${rate}/s: ${r.ratio.toFixed(2)} of the no-enrichment rate, under 0.9`);
    if (r.stats.opened === 0 || r.stats.closed === 0) failures.push(`enrichment at ${rate}/s: the breaker did not open and close`);
    if (r.enrichedEvents !== r.baselineEvents) failures.push(`enrichment at ${rate}/s: ${r.enrichedEvents} of ${r.baselineEvents} events folded`);
  }
}

if (own && brokers && !quick) spawnSync('bash', ['scripts/kafka.sh', 'stop'], { stdio: 'inherit' });
out(failures.length === 0 ? '\nchaos: every case met its target' : `\nchaos: ${failures.length} missed:\n${failures.map((f) => `- ${f}`).join('\n')}`);
process.exitCode = failures.length === 0 ? 0 : 1;
