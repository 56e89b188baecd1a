export { answersRelationName, changesRelationName, compileDuckDb, outputWindowBound, outputWindowStart, tableAsStream, type CompiledQuery } from './compile-plan.js';
export { compileExpr } from './compile-expr.js';
export { canonicalColumns, quoteIdent, relationName, duckType } from './duckdb-dialect.js';
export { createEventsTable, appendEvents } from './load-events.js';
export { runCompiled } from './run-query.js';
