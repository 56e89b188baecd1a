/** Worker threads start whatever flags their parent was started with (bench: --expose-gc, --max-old-space-size). */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { workerExecArgv } from '../../src/util/worker-argv.js';

describe('workerExecArgv', () => {
  it('keeps module-loading and warning flags, drops per-process ones', () => {
    expect(workerExecArgv(['--max-old-space-size=8192', '--expose-gc', '--input-type=module', '--enable-source-maps', '--conditions', 'dev', '--no-warnings', '--trace-gc']))
      .toEqual(['--enable-source-maps', '--conditions', 'dev', '--no-warnings']);
  });

  it('gives flags a worker accepts (the raw ones are refused)', async () => {
    const parent = ['--max-old-space-size=512', '--expose-gc', '--enable-source-maps'];
    expect(() => new Worker('1', { eval: true, execArgv: parent })).toThrow(/execArgv|invalid/i);
    const w = new Worker('require("node:worker_threads").parentPort.postMessage(1)', { eval: true, execArgv: workerExecArgv(parent) });
    await expect(new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })).resolves.toBe(1);
    await w.terminate();
  });
});
