export { answersRelationName, changesRelationName, compileDuckDb, tableAsStream, type CompiledQuery } from './compile-plan.js';
// Plan queries, re-exported for the cold path's callers (defined in plan/nodes.ts, which loads no DuckDB).
export { outputWindowBound, outputWindowStart } from '../plan/index.js';
export { compileExpr } from './compile-expr.js';
export { canonicalColumns, quoteIdent, relationName, duckType } from './duckdb-dialect.js';
export { createEventsTable, appendEvents } from './load-events.js';
export { runCompiled } from './run-query.js';
