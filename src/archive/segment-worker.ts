/** The archive's worker thread: runs segment jobs posted by `SegmentWriter` and answers each. */
import { parentPort, workerData } from 'node:worker_threads';
import { SegmentContext, type SegmentJob, type SegmentReply, type SegmentWriterInit } from './segment-job.js';

const port = parentPort;
if (!port) throw new Error('segment-worker.ts runs as a worker thread only');
const context = new SegmentContext(workerData as SegmentWriterInit);
port.on('message', (job: SegmentJob) => {
  let reply: SegmentReply;
  try {
    reply = { id: job.id, bytes: context.run(job) };
  } catch (err) {
    reply = { id: job.id, error: (err as Error).message };
  }
  port.postMessage(reply);
});
