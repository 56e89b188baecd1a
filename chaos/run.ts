/**
 * `npm run chaos`: the race-weekend fault suite on a real broker — every scenario at 2x, 5x and
 * 10x its normal rate, with the faults of fault-run.ts — and a table of what survived.
 * Brokers: PITWALL_CHAOS_BROKERS, or the test broker of scripts/kafka.sh (which can also be
 * stopped and started as a fault). `npm run chaos -- --quick` runs one small case;
 * `-- --scenario=nexmark` one scenario; `-- --state-sync=changelog` runs the engine with its
 * state in changelog topics (each checkpoint a Kafka transaction per task).
 * `-- --scenario=enrichment` needs no broker: an external lookup's service dead for 30 s
 * mid-run (chaos/enrichment-outage.ts); `--rate=N` sets the offered events/s (default 2000).
 * `-- --scenario=shedding` runs the shedding scenario instead (shedding-run.ts): 10x load for
 * 60 s (`--quick`: 15 s) with a critical, a standard and a batch metric.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { SCENARIOS, type Scenario } from '../src/sources/generator.js';
import { enrichmentOutage } from './enrichment-outage.js';
import { faultRun, type FaultRunResult } from './fault-run.js';
import { sheddingRun } from './shedding-run.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--scenario='))?.slice('--scenario='.length);
const stateSync = process.argv.includes('--state-sync=changelog') ? 'changelog' : 'shared';
if (only === 'enrichment') {
  // No broker: the enrichment stage in front of the engine, its lookup service dead for 30 s mid-run.
  const rate = Number(process.argv.find((a) => a.startsWith('--rate='))?.slice('--rate='.length) ?? 2000);
  const r = await enrichmentOutage({ rate, beforeMs: 10_000, outageMs: 30_000, afterMs: 20_000, keys: 2000, cacheTtl: '5s', resetTimeout: '5s', timeout: '500ms', window: '5s' });
  const f = r.stats.fallbacks;
  process.stdout.write([
    '| offered | no-enrichment rate (outage) | with lookup down | ratio | worst second | breaker opened / half-opened / closed | fallbacks (timeout, breaker_open) | events folded | peak waiting |',
    '|---|---|---|---|---|---|---|---|---|',
    `| ${r.offered}/s | ${r.baselineRate.toFixed(0)}/s | ${r.outageRate.toFixed(0)}/s | ${r.ratio.toFixed(2)} | ${r.worstSecondRatio.toFixed(2)} | ${r.stats.opened} / ${r.stats.halfOpened} / ${r.stats.closed} | ${f.timeout}, ${f.breaker_open} | ${r.enrichedEvents} of ${r.baselineEvents} | ${r.peakWaiting} |`,
  ].join('\n') + '\n');
  process.exit(r.ratio >= 0.9 && r.stats.opened > 0 && r.stats.closed > 0 && r.enrichedEvents === r.baselineEvents ? 0 : 1);
}
let brokers = process.env.PITWALL_CHAOS_BROKERS;
const own = !brokers;
if (!brokers) brokers = execFileSync('bash', ['scripts/kafka.sh', 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop() as string;
if (only === 'shedding') {
  const r = await sheddingRun({ brokers, seconds: quick ? 15 : 60, multiple: 10, baseRate: 1_500, log: (m) => process.stderr.write(`  ${m}\n`) });
  const rows = Object.entries(r.metrics).map(([m, f]) => `| ${m} | ${f.tier} | ${f.shedWindows} | ${f.backfilledWindows} | ${f.pendingIntervals} | ${r.compared[m] ?? 0} |`);
  process.stdout.write(`${r.events} events at ${r.rate}/s; ${r.shedSteps} shedding steps; p99 event→result ${r.p99LatencyMs === undefined ? 'n/a' : `≤ ${r.p99LatencyMs} ms`}; final rows ${r.equal ? 'equal' : 'NOT equal'} to an unshed run\n`);
  process.stdout.write(`${['| metric | tier | shed windows | backfilled windows | pending intervals | rows compared |', '|---|---|---|---|---|---|', ...rows].join('\n')}\n`);
  if (own && !quick) spawnSync('bash', ['scripts/kafka.sh', 'stop'], { stdio: 'inherit' });
  process.exit(r.equal && Object.values(r.metrics).every((m) => m.pendingIntervals === 0) ? 0 : 1);
}
const cases: { scenario: Scenario; multiple: number }[] = quick
  ? [{ scenario: 'food-delivery', multiple: 2 }]
  : SCENARIOS.filter((s) => !only || s === only).flatMap((scenario) => [2, 5, 10].map((multiple) => ({ scenario, multiple })));
const results: FaultRunResult[] = [];
for (const c of cases) {
  process.stderr.write(`chaos: ${c.scenario} at ${c.multiple}x…\n`);
  results.push(await faultRun({ brokers, ...c, baseRate: 150, events: quick ? 6000 : 4500 * c.multiple, brokerRestart: own, stateSync, log: (m) => process.stderr.write(`  ${m}\n`) }));
}
const head = '| scenario | rate | faults | events | lost | unexplained | DLQ missing | archive dups | p99 event→result | peak RSS |';
const lines = [head, '|---|---|---|---|---|---|---|---|---|---|', ...results.map((r) => `| ${r.scenario} | ${r.multiple}x | ${r.faults} | ${r.events} | ${r.lost} | ${r.unexplained} | ${r.dlqMissing} | ${r.archiveDuplicates} | ${r.p99LatencyMs === undefined ? 'n/a' : Number.isFinite(r.p99LatencyMs) ? `≤ ${r.p99LatencyMs} ms` : 'over the top bucket (30 s)'} | ${r.peakRssMb} MB |`)];
process.stdout.write(`${lines.join('\n')}\n`);
if (own && !quick) spawnSync('bash', ['scripts/kafka.sh', 'stop'], { stdio: 'inherit' });
const bad = results.filter((r) => r.lost || r.unexplained || r.dlqMissing || r.archiveDuplicates);
process.exitCode = bad.length ? 1 : 0;
