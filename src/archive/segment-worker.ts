/**
 * The archive's worker thread: keeps the chunks posted by `SegmentWriter`, runs its segment jobs
 * and answers each.
 *
 * It runs at a lower scheduling priority (nice +10, this thread only) than the processing
 * thread: on a busy machine the hot path wins the CPU and archiving takes what is left, which
 * is enough on average; the archive writer's backpressure (`relieve`) bounds how far it may lag.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../util/thread-priority.js';
import { SegmentContext, type SegmentMessage, type SegmentReply, type SegmentWriterInit } from './segment-job.js';

const port = parentPort;
if (!port) throw new Error('segment-worker.ts runs as a worker thread only');
const init = workerData as SegmentWriterInit;
lowerThreadPriority(init.niceness ?? 0);
const context = new SegmentContext(init);
context.warmUp();
port.postMessage('ready');
port.on('message', (job: SegmentMessage) => {
  if (job.kind === 'chunk') { context.chunk(job); return; }
  // Fault injection for the tests: this thread dies (alone) holding chunks.
  if (process.env.PITWALL_FAILPOINT === 'archive-worker-exit') process.exit(3);
  let reply: SegmentReply;
  try {
    reply = { id: job.id, ...context.run(job) };
  } catch (err) {
    reply = { id: job.id, error: (err as Error).message };
  }
  port.postMessage(reply);
});
