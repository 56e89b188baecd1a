/**
 * The Node flags a worker thread gets. A worker inherits its parent's `process.execArgv`, but
 * Node refuses per-process flags there (`--max-old-space-size`, `--expose-gc`, `--input-type`
 * and other V8 or process options: ERR_WORKER_INVALID_EXEC_ARGV), so a parent started with one
 * of them could start no worker. Workers get only the flags that change how modules load and
 * errors print; pitwall's worker entries register their own TypeScript loader when they run
 * from sources.
 */
const KEEP = ['--enable-source-maps', '--conditions', '-C', '--experimental-', '--no-warnings', '--no-deprecation'];

/** The subset of `argv` (default: this process's flags) that is safe and useful in a worker. */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!KEEP.some((k) => a === k || a.startsWith(k.endsWith('-') ? k : `${k}=`))) continue;
    out.push(a);
    // `--conditions X` / `-C X`: keep the value that follows.
    if ((a === '--conditions' || a === '-C') && i + 1 < argv.length) out.push(argv[++i] as string);
  }
  return out;
}
