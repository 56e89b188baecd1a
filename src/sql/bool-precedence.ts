/**
 * AND binds tighter than OR. node-sql-parser's PostgreSQL grammar reads a run of AND / OR as one
 * left-to-right chain, so `a OR b AND c` comes out as `(a OR b) AND c`; PostgreSQL and DuckDB
 * read `a OR (b AND c)`. This regroups every such run in place. A group the user parenthesized
 * (`parentheses: true`) is one operand, kept as written.
 */
import { isNode, type SqlNode } from './ast.js';

const logicalOp = (n: unknown): 'AND' | 'OR' | undefined => {
  if (!isNode(n) || n.type !== 'binary_expr') return undefined;
  const op = String(n.operator).toUpperCase();
  return op === 'AND' || op === 'OR' ? op : undefined;
};

function fold(operands: readonly SqlNode[], operator: 'AND' | 'OR'): SqlNode {
  return operands.reduce((left, right) => ({ type: 'binary_expr', operator, left, right, ...(left.loc ? { loc: left.loc } : {}) }));
}

/** Regroups the AND / OR runs in `node` and below; returns the node to use in its place. */
export function fixBooleanPrecedence(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(fixBooleanPrecedence);
  if (!isNode(node)) return node;
  const rootOp = logicalOp(node);
  if (!rootOp) {
    for (const [key, value] of Object.entries(node)) if (key !== 'loc') (node as Record<string, unknown>)[key] = fixBooleanPrecedence(value);
    return node;
  }
  // Unwind the left-deep chain into its operands and operators, in source order.
  const operands: unknown[] = [];
  const ops: ('AND' | 'OR')[] = [];
  let cur: SqlNode = node;
  for (let op: 'AND' | 'OR' | undefined = rootOp; op && (cur === node || !cur.parentheses); op = logicalOp(cur)) {
    operands.unshift(cur.right);
    ops.unshift(op);
    cur = cur.left as SqlNode;
  }
  operands.unshift(cur);
  const fixed = operands.map(fixBooleanPrecedence) as SqlNode[];
  // AND-groups joined by OR, each left-associative.
  const groups: SqlNode[][] = [[fixed[0] as SqlNode]];
  ops.forEach((op, i) => {
    if (op === 'OR') groups.push([fixed[i + 1] as SqlNode]);
    else groups.at(-1)?.push(fixed[i + 1] as SqlNode);
  });
  const result = fold(groups.map((g) => fold(g, 'AND')), 'OR');
  return { ...result, ...(node.loc ? { loc: node.loc } : {}), ...(node.parentheses ? { parentheses: true } : {}) };
}
