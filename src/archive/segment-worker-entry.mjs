// Entry of the archive's worker thread: a worker does not inherit the TypeScript loader of the
// thread that starts it, so it registers tsx itself, then loads the worker.
import { register } from 'tsx/esm/api';

register();
await import('./segment-worker.ts');
