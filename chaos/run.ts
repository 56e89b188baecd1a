/**
 * `npm run chaos`: the race-weekend fault suite on a real broker — every scenario at 2x, 5x and
 * 10x its normal rate, with the faults of fault-run.ts — and a table of what survived.
 * Brokers: PITWALL_CHAOS_BROKERS, or the test broker of scripts/kafka.sh (which can also be
 * stopped and started as a fault). `npm run chaos -- --quick` runs one small case;
 * `-- --scenario=nexmark` one scenario; `-- --state-sync=changelog` runs the engine with its
 * state in changelog topics (each checkpoint a Kafka transaction per task).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { SCENARIOS, type Scenario } from '../src/sources/generator.js';
import { faultRun, type FaultRunResult } from './fault-run.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--scenario='))?.slice('--scenario='.length);
const stateSync = process.argv.includes('--state-sync=changelog') ? 'changelog' : 'shared';
let brokers = process.env.PITWALL_CHAOS_BROKERS;
const own = !brokers;
if (!brokers) brokers = execFileSync('bash', ['scripts/kafka.sh', 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop() as string;
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
