/**
 * pitwall's engine API, the package's main export (`import { … } from 'pitwall'`).
 *
 * - catalog: `loadCatalog(dir)` reads and validates `catalog/*.yaml` (throws CatalogError /
 *   AggregateUserError with file:line:col);
 * - plan: `loadQueries(dir, catalog)` / `planFile` build one logical plan per metric (PlanError
 *   with position), `explainPlan` prints it;
 * - hot path: `Engine` runs the incremental operators over raw records pushed per partition;
 *   `replay` runs them over NDJSON/Parquet files;
 * - cold path: `compileDuckDb(plan)` gives the metric's DuckDB SQL, `recompute` runs it over an
 *   archive or files; `reconcile` compares the two;
 * - sources: NDJSON/Parquet readers, the Kafka source, the seeded scenario generators.
 *
 * Every error a user can cause is a `PitwallError` with a stable `code` (docs/errors.md).
 */
export * from './errors.js';
export * from './catalog/index.js';
export * from './plan/index.js';
export { parseQuery, type EmitMode, type ParsedQuery } from './sql/index.js';
export { Engine, type EngineOptions, type EngineSink, type EngineSnapshot } from './hot/engine.js';
export { replay, parseInputs, type ReplayInput, type ReplaySummary } from './hot/replay.js';
export type { RawRecord, QuarantineRecord, StreamStats } from './hot/stream-runtime.js';
export type { EventOrigin, LatePair, RowChange } from './hot/operator-types.js';
export { compileDuckDb, type CompiledQuery } from './cold/index.js';
export { recompute, type RecomputeSource, type RecomputeSummary } from './cold/recompute.js';
export { reconcile, formatReconciliation, type Reconciliation, type MetricReconciliation, type Difference, type DiffClass } from './reconcile/reconcile.js';
export * from './sources/index.js';
