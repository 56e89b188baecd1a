/**
 * `npm run bench`: every figure side by side in one run, with ratios where a target is a
 * ratio, written to bench/RESULTS.md and printed. The Kafka figure needs a broker:
 * PITWALL_BENCH_BROKERS, or the test broker started by scripts/kafka.sh when Java is present.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import type { Figure } from './common.js';
import { archiveFigures } from './archive.js';
import { kafkaThroughput } from './kafka.js';
import { kafkaClientFigures } from './kafka-clients.js';
import { kafkaStreamsFigures } from './kafka-streams.js';
import { operatorThroughput, stateBytes } from './operator.js';
import { replayVsParse } from './replay.js';
import { scaleOutFigures } from './scale-out.js';
import { sessionScaling } from './session.js';
import { stateRunFigures } from './state-run.js';
import { stateFigures } from './state.js';
import { startupFigures } from './startup.js';

const only = process.argv.slice(2);
const want = (id: string): boolean => only.length === 0 || only.includes(id);
const figures: Figure[] = [];

if (want('s')) figures.push(...startupFigures());
if (want('a')) figures.push(...await operatorThroughput());
if (want('b')) figures.push(...await replayVsParse());
if (want('d')) figures.push(...await stateBytes());
if (want('e')) figures.push(...await archiveFigures());
if (want('g')) figures.push(...await sessionScaling());
const stateIds = ['h1', 'h2', 'h3', 'h4'].filter((id) => want('h') || want(id));
if (stateIds.length > 0) figures.push(...await stateFigures(new Set(stateIds)));
if (want('f')) figures.push(...await (await import('./serve-load.js')).serveLoad(), ...await (await import('./sse-latency.js')).sseLatency());
const kafkaIds = ['c', 'c3', 'c4', 'h5', 'i'].filter((id) => want(id) || (id === 'h5' && want('h')));
if (kafkaIds.length > 0) {
  let brokers = process.env.PITWALL_BENCH_BROKERS;
  let started = false;
  if (!brokers && spawnSync('sh', ['-c', 'command -v java && command -v mvn'], { stdio: 'ignore' }).status === 0) {
    started = spawnSync('bash', ['scripts/kafka.sh', 'status'], { stdio: 'ignore' }).status !== 0;
    brokers = execFileSync('bash', ['scripts/kafka.sh', 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
  }
  if (brokers) {
    if (kafkaIds.includes('c')) figures.push(...await kafkaThroughput(brokers));
    if (kafkaIds.includes('c3')) figures.push(...await kafkaClientFigures(brokers));
    if (kafkaIds.includes('c4')) figures.push(...await kafkaStreamsFigures(brokers));
    if (kafkaIds.includes('h5')) figures.push(...await stateRunFigures(brokers));
    if (kafkaIds.includes('i')) figures.push(...await scaleOutFigures(brokers));
    if (started) spawnSync('bash', ['scripts/kafka.sh', 'stop'], { stdio: 'inherit' });
  } else {
    process.stderr.write(`!!! bench (${kafkaIds.join(', ')}) skipped: no broker (set PITWALL_BENCH_BROKERS or install Java + Maven)\n`);
  }
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const lines = [
  `# pitwall benchmark`,
  '',
  `Machine: ${machine}. Run: \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.`,
  '',
  '| # | figure | measured | ratio | target | met |',
  '|---|---|---|---|---|---|',
  ...figures.sort((a, b) => a.id.localeCompare(b.id)).map((f) => `| ${f.id} | ${f.what} | ${f.value} | ${f.ratio ?? ''} | ${f.target} | ${f.met === undefined ? '' : f.met ? 'yes' : '**no**'} |`),
  '',
];
const md = lines.join('\n');
process.stdout.write(md);
if (only.length === 0) writeFileSync('bench/RESULTS.md', md);

