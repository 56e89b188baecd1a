// Entry of the state store's writer thread when pitwall runs from its TypeScript sources (tests,
// benchmarks): a worker does not inherit the loader of the thread that starts it, so it registers
// tsx itself, then loads the worker. Compiled pitwall (dist/) starts checkpoint-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./checkpoint-worker.ts');
