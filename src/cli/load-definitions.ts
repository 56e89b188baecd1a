/**
 * Loads a catalog directory and the metrics of a queries directory for a command. Imported
 * lazily by the commands, so `pitwall --help` does not pay for the SQL parser, ajv and yaml.
 *
 * @throws PW_CATALOG_DIR / PW_QUERIES_DIR when a directory is missing or is a file;
 *   CatalogError / PlanError / AggregateUserError, with file:line:col, as loadCatalog and
 *   loadQueries do.
 */
import type { Catalog } from '../catalog/index.js';
import { planChain, type MetricPlan } from '../plan/index.js';
import { checkCatalogDir, checkQueriesDir } from './path-options.js';

export async function loadDefinitions(dirs: { readonly catalog: string; readonly queries: string }): Promise<{ catalog: Catalog; plans: MetricPlan[] }> {
  // Both directories are checked first, so a file or a typo is named before any parsing.
  checkCatalogDir(dirs.catalog);
  checkQueriesDir(dirs.queries);
  const [{ loadCatalog }, { loadQueries }] = await Promise.all([import('../catalog/index.js'), import('../plan/index.js')]);
  const catalog = loadCatalog(dirs.catalog);
  return { catalog, plans: loadQueries(dirs.queries, catalog) };
}

/**
 * The metrics `pitwall run` can run, and those it leaves out: a metric with a lookup join needs
 * every change of its reference table on every member (a broadcast of the table's compacted
 * topic, with its versions in checkpoints), which `run` does not do yet. Lookup joins run in
 * `pitwall replay` and `pitwall demo`; the caller names each left-out metric in a PW_RUN_JOIN
 * warning (README, Known limits).
 */
export function withoutLookupJoins(plans: readonly MetricPlan[]): { plans: MetricPlan[]; joined: MetricPlan[] } {
  const joins = (p: MetricPlan): boolean => planChain(p.root).some((n) => n.kind === 'LookupJoinNode');
  return { plans: plans.filter((p) => !joins(p)), joined: plans.filter(joins) };
}

/**
 * The metrics `pitwall run` can run (--single and member threads), and those it leaves out: a metric joining a
 * reference table (kind: table) needs its broadcast, which `run` does not do yet; a metric
 * joining an external lookup (kind: lookup) runs (the single runner, and each member thread's
 * phase one, put the enrichment stage in front).
 */
export function withoutTableJoins(plans: readonly MetricPlan[]): { plans: MetricPlan[]; joined: MetricPlan[] } {
  const table = (p: MetricPlan): boolean => planChain(p.root).some((n) => n.kind === 'LookupJoinNode' && n.table.kind !== 'lookup');
  return { plans: plans.filter((p) => !table(p)), joined: plans.filter(table) };
}

/**
 * The metrics the embedded demo can run, and those it leaves out: a metric joining an external
 * lookup (kind: lookup) needs the enrichment stage, which `pitwall replay` and `pitwall run
 * --single` run, not the demo.
 */
export function withoutExternalLookups(plans: readonly MetricPlan[]): { plans: MetricPlan[]; joined: MetricPlan[] } {
  const external = (p: MetricPlan): boolean => planChain(p.root).some((n) => n.kind === 'LookupJoinNode' && n.table.kind === 'lookup');
  return { plans: plans.filter((p) => !external(p)), joined: plans.filter(external) };
}

/** The PW_RUN_JOIN warning for a metric {@link withoutLookupJoins} or {@link withoutExternalLookups} left out. */
export function lookupJoinWarning(plan: MetricPlan): string {
  const code = 'PW_RUN_JOIN';
  if (planChain(plan.root).some((n) => n.kind === 'LookupJoinNode' && n.table.kind === 'lookup')) {
    return `${code}: metric '${plan.name}' (${plan.file}) joins an external lookup (kind: lookup); external lookups run in \`pitwall replay\` and \`pitwall run\`, not in the demo: it is left out of this run (run it with \`pitwall run\`, or move the file out of --queries to silence this)`;
  }
  return `${code}: metric '${plan.name}' (${plan.file}) joins a reference table; lookup joins run in \`pitwall replay\` and \`pitwall demo\`, not yet in \`pitwall run\`: it is left out of this run (move the file out of --queries to silence this)`;
}
