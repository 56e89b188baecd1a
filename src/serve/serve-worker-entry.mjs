// Entry of the serving thread when pitwall runs from its TypeScript sources (tests, benchmarks): a
// worker does not inherit the loader of the thread that starts it, so it registers tsx itself,
// then loads the worker. Compiled pitwall (dist/) starts serve-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./serve-worker.ts');
