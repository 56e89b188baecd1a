/**
 * The slice of node-sql-parser's AST pitwall reads. The parser's own types are loose; this
 * keeps the binder honest by reading every field through these narrow accessors.
 */
export interface SqlLoc { start: { offset: number; line: number; column: number } }

/** A node of node-sql-parser's AST: an object with a `type` and arbitrary fields. */
export interface SqlNode {
  readonly type?: string;
  readonly loc?: SqlLoc;
  readonly [key: string]: unknown;
}

export function isNode(v: unknown): v is SqlNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a child node (or undefined). */
export function child(node: SqlNode, key: string): SqlNode | undefined {
  const v = node[key];
  return isNode(v) ? v : undefined;
}

/** Reads a child array of nodes (or []). */
export function children(node: SqlNode, key: string): SqlNode[] {
  const v = node[key];
  return Array.isArray(v) ? v.filter(isNode) : [];
}

/** The name of a `function` node (`{name: {name: [{value}]}}`) or an `aggr_func` node. */
export function functionName(node: SqlNode): string {
  const n = node.name;
  if (typeof n === 'string') return n;
  if (isNode(n) && Array.isArray(n.name)) return n.name.map((p: { value?: string }) => p.value ?? '').join('.');
  return '';
}

/** The argument list of a `function` node. */
export function functionArgs(node: SqlNode): SqlNode[] {
  const args = child(node, 'args');
  if (!args) return [];
  return args.type === 'expr_list' ? children(args, 'value') : [args];
}

/** The dotted path of a `column_ref` (`data.restaurantId` → ['data', 'restaurantId']). */
export function columnPath(node: SqlNode): string[] {
  const col = node.column;
  let last: string;
  if (typeof col === 'string') last = col;
  else if (isNode(col) && isNode(col.expr)) last = String(col.expr.value);
  else last = '';
  const parts: string[] = [];
  if (typeof node.schema === 'string') parts.push(node.schema);
  if (typeof node.table === 'string') parts.push(node.table);
  parts.push(last);
  return parts;
}

/**
 * Reads `keys` of a node on purpose: for properties whose value does not change what a metric
 * means (spelling such as `::` for CAST, a subquery's alias, the parser's bookkeeping), so that
 * the planner's unread-property check (AstUsage) counts them as handled.
 */
export function accept(node: SqlNode | undefined, ...keys: readonly string[]): void {
  if (node) for (const k of keys) void node[k];
}
