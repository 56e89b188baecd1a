/**
 * Start-up figures (s1–s3): wall time of `pitwall --help` and `pitwall validate` on the sample
 * catalog as started by users (compiled dist/ through bin/pitwall.js), each as a ratio to a bare
 * `node -e 0` measured interleaved in the same run, and the archive worker thread's start-up
 * (compiled segment-worker.js: modules loaded and the Parquet encoder warmed up) in a child
 * process that times `ArchiveWriter.open()` until its worker is ready.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, type Figure } from './common.js';

const RUNS = Number(process.env.PITWALL_BENCH_STARTUP_RUNS ?? 15);

function wallMs(args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`bench (s): node ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/** Times the compiled archive worker's start in a fresh process (ms from open() to ready). */
function archiveWorkerStartMs(): number {
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-worker-'));
  const script = `
    const { loadCatalog } = await import('./dist/catalog/index.js');
    const { ArchiveWriter } = await import('./dist/archive/archive-writer.js');
    const w = new ArchiveWriter(${JSON.stringify(dir)}, loadCatalog('catalog'), { piiKey: 'bench' });
    const t0 = performance.now();
    w.open();
    await w.ready();
    const ms = performance.now() - t0;
    await w.close();
    process.stdout.write(String(ms));`;
  try {
    return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function startupFigures(): Figure[] {
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore' }); // the figures are of the compiled CLI
  const node: number[] = [];
  const help: number[] = [];
  const validate: number[] = [];
  wallMs(['bin/pitwall.js', '--help']); // warm the file cache once
  for (let i = 0; i < RUNS; i++) {
    node.push(wallMs(['-e', '0']));
    help.push(wallMs(['bin/pitwall.js', '--help']));
    validate.push(wallMs(['bin/pitwall.js', 'validate']));
  }
  const worker: number[] = [];
  for (let i = 0; i < 5; i++) worker.push(archiveWorkerStartMs());
  const n = median(node);
  const h = median(help);
  const v = median(validate);
  const how = `median of ${RUNS} interleaved runs`;
  return [
    { id: 's1', what: `CLI start-up: \`pitwall --help\` (compiled) vs \`node -e 0\`, wall time, ${how}`, value: `${fmt(h)} ms vs ${fmt(n)} ms`, ratio: (h / n).toFixed(2), target: '≤ 4× node -e 0', met: h / n <= 4 },
    { id: 's2', what: `\`pitwall validate\` on the sample catalog and 10 metrics vs \`node -e 0\`, ${how}`, value: `${fmt(v)} ms vs ${fmt(n)} ms`, ratio: (v / n).toFixed(2), target: '(figure)', met: undefined },
    { id: 's3', what: 'archive worker thread start-up (compiled segment-worker.js: modules loaded, Parquet encoder warmed), open() to ready, median of 5 fresh processes', value: `${fmt(median(worker))} ms`, target: '(figure)', met: undefined },
  ];
}
