/**
 * Depth of a parsed statement, measured without recursion (the tree being measured may be deep
 * enough to overflow a recursive walk: that is what is being checked).
 */

/** Where a statement first goes deeper than allowed. */
export interface TooDeep {
  /** Character offset of the first node past the limit, or of its nearest located ancestor. */
  readonly offset: number;
}

/**
 * Finds the first node (depth first, in document order) nested more than `maxDepth` levels
 * deep, counting objects that have a string `type` (AST nodes; wrappers and arrays are free).
 * Returns undefined when the whole statement is within the limit.
 */
export function findTooDeep(root: unknown, maxDepth: number): TooDeep | undefined {
  const stack: { value: unknown; depth: number; near: number }[] = [{ value: root, depth: 0, near: 0 }];
  while (stack.length > 0) {
    const { value, depth, near } = stack.pop() as { value: unknown; depth: number; near: number };
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth, near });
      continue;
    }
    const node = value as { type?: unknown; loc?: { start?: { offset?: unknown } } };
    const offset = typeof node.loc?.start?.offset === 'number' ? node.loc.start.offset : near;
    const level = typeof node.type === 'string' ? depth + 1 : depth;
    if (level > maxDepth) return { offset };
    const entries = Object.entries(value).filter(([k]) => k !== 'loc');
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: (entries[i] as [string, unknown])[1], depth: level, near: offset });
  }
  return undefined;
}
