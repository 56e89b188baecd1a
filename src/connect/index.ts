/**
 * Redpanda Connect for pitwall: the generated ingest pipeline (HTTP, file and stdin inputs,
 * shape check, DLQ, keyed Kafka output), finding the binary, and supervising it.
 */
export { generateConnectConfig, connectConfigObject, brokersInterpolation, BROKERS_ENV, OUTPUT_BATCH, type ConnectConfigOptions, type ConnectInputKind } from './connect-config.js';
export { shapeCheckMapping } from './shape-check-mapping.js';
export { findConnectBinary, type ConnectCommand } from './find-connect-binary.js';
export { ConnectSupervisor, type ConnectSupervisorOptions } from './connect-supervisor.js';
export { RestartBackoff, DEFAULT_BACKOFF, type BackoffPolicy } from './restart-backoff.js';
export { parseConnectLog, formatConnectLog, type ConnectLogEntry } from './connect-log.js';
export { connectBaseUrl, ingestPath, ingestUrl, parseHttpAddress, readyUrl } from './connect-urls.js';
export { waitReady } from './wait-ready.js';
