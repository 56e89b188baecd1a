/** Loads and plans every metric of a queries/ directory, collecting every error. */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Catalog } from '../catalog/index.js';
import { AggregateUserError, InternalError, PitwallError, PlanError } from '../errors.js';
import { parseQuery } from '../sql/parse-query.js';
import { readSqlFile } from '../sql/read-sql-file.js';
import { buildPlan } from './build-plan.js';
import type { MetricPlan } from './nodes.js';

/** Plans one metric file (UTF-8; see {@link readSqlFile} for what is refused before parsing). */
export function planFile(path: string, catalog: Catalog): MetricPlan {
  const file = relative(process.cwd(), path) || path;
  return buildPlan(parseQuery(file, readSqlFile(path, file)), catalog);
}

/** Lists `*.sql` files of a directory, sorted. */
export function queryFiles(dir: string): string[] {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new PlanError('PW_QUERIES_DIR', `queries directory '${dir}' does not exist; pass --queries DIR with one CREATE VIEW per .sql file`);
  }
  return readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => join(dir, f));
}

/**
 * Plans every metric of `dir`. Metric names must be unique. Throws one error listing every
 * problem found, so an analyst fixes them in one pass: a file that breaks pitwall itself (an
 * error without a code, reported as PW_INTERNAL at that file) does not hide the others' errors.
 */
export function loadQueries(dir: string, catalog: Catalog): MetricPlan[] {
  const plans: MetricPlan[] = [];
  const errors: PitwallError[] = [];
  for (const path of queryFiles(dir)) {
    try {
      const plan = planFile(path, catalog);
      const prior = plans.find((p) => p.name.toLowerCase() === plan.name.toLowerCase());
      if (prior) {
        errors.push(new PlanError('PW_PLAN_DUPLICATE_METRIC', `metric '${plan.name}' is already defined in ${prior.file}; metric names must be unique`, { position: { file: plan.file, line: 1, col: 1 } }));
        continue;
      }
      plans.push(plan);
    } catch (err) {
      const file = relative(process.cwd(), path) || path;
      errors.push(err instanceof PitwallError ? err
        : new InternalError(`planning failed: ${err instanceof Error ? err.message : String(err)}`, { position: { file, line: 1, col: 1 }, cause: err }));
    }
  }
  if (errors.length === 1) throw errors[0] as PitwallError;
  if (errors.length > 1) throw new AggregateUserError(errors);
  return plans;
}
