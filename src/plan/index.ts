export type { Expr, SqlType } from './expr.js';
export { walkExpr, fieldsOf, exprChildren, readsTable } from './expr.js';
export * from './nodes.js';
export { buildPlan, definitionHash } from './build-plan.js';
export { fieldsRead, versionReads } from './fields-read.js';
export { explainPlan, displayNode, displayWindow, displayAggregate } from './explain.js';
export { displayExpr } from './display-expr.js';
export { loadQueries, planFile, queryFiles } from './load-queries.js';
