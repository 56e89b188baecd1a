/**
 * Loads a catalog directory and the metrics of a queries directory for a command. Imported
 * lazily by the commands, so `pitwall --help` does not pay for the SQL parser, ajv and yaml.
 *
 * @throws PW_CATALOG_DIR / PW_QUERIES_DIR when a directory is missing or is a file;
 *   CatalogError / PlanError / AggregateUserError, with file:line:col, as loadCatalog and
 *   loadQueries do.
 */
import type { Catalog } from '../catalog/index.js';
import type { MetricPlan } from '../plan/index.js';
import { checkCatalogDir, checkQueriesDir } from './path-options.js';

export async function loadDefinitions(dirs: { readonly catalog: string; readonly queries: string }): Promise<{ catalog: Catalog; plans: MetricPlan[] }> {
  // Both directories are checked first, so a file or a typo is named before any parsing.
  checkCatalogDir(dirs.catalog);
  checkQueriesDir(dirs.queries);
  const [{ loadCatalog }, { loadQueries }] = await Promise.all([import('../catalog/index.js'), import('../plan/index.js')]);
  const catalog = loadCatalog(dirs.catalog);
  return { catalog, plans: loadQueries(dirs.queries, catalog) };
}
