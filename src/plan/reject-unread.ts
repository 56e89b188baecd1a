/**
 * The last check of binding: a metric whose statement still holds something the binder never
 * read (see {@link AstUsage}) is rejected, because running it would silently ignore that part.
 */
import { PlanError } from '../errors.js';
import type { UnreadProperty } from '../sql/ast-usage.js';
import type { ParsedQuery } from '../sql/parse-query.js';
import type { SourceText } from '../sql/source-text.js';

const words = (text: string): string[] => text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [];

/** The first string in `value` that is not a node's `type` (breadth first, a few levels). */
function firstText(value: unknown): string | undefined {
  let level: unknown[] = [value];
  for (let depth = 0; depth < 4 && level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const v of level) {
      if (typeof v === 'string' && v.trim() !== '') return v;
      if (typeof v !== 'object' || v === null) continue;
      for (const [k, c] of Array.isArray(v) ? v.entries() : Object.entries(v)) if (k !== 'type' && k !== 'loc') next.push(c);
    }
    level = next;
  }
  return undefined;
}

/**
 * Offset of the construct: its own location when the parser gave one; else the first word of
 * its key (`escape`, `collate`, `order` of `orderby`) or of its text (`at` of `at time zone`)
 * at or after the nearest located node; else that node.
 */
function offsetOf(p: UnreadProperty, source: SourceText): number {
  const loc = (p.value as { loc?: { start?: { offset?: unknown } } } | null)?.loc?.start?.offset;
  if (typeof loc === 'number') return loc;
  const text = firstText(p.value);
  for (const w of [...words(p.key.replace(/by$/, ' by').replace(/_/g, ' ')), ...(text ? words(text) : [])]) {
    const at = source.findKeyword(w, undefined, p.nearOffset);
    if (at !== undefined) return at;
  }
  return p.nearOffset;
}

/** Up to 24 characters of the line at `offset`, for the message. */
function snippet(source: SourceText, offset: number): string {
  const line = source.text.slice(offset).split('\n')[0]?.trimEnd() ?? '';
  return line.length > 24 ? `${line.slice(0, 24)}…` : line;
}

/**
 * Throws PW_PLAN_UNSUPPORTED at the first (in the file) construct of `query` the binder did not
 * read; returns when the binder read every part of the statement that holds something.
 */
export function rejectUnread(query: ParsedQuery): void {
  const unread = query.usage.unread().map((p) => ({ p, offset: offsetOf(p, query.source) }));
  if (unread.length === 0) return;
  const first = unread.reduce((a, b) => (b.offset < a.offset ? b : a));
  const what = first.p.key.replace(/by$/, ' by').replace(/_/g, ' ');
  throw new PlanError('PW_PLAN_UNSUPPORTED',
    `unsupported SQL at "${snippet(query.source, first.offset)}" (${what}): pitwall's dialect has no meaning for it here, and a metric never runs with part of its SQL ignored; remove it or rewrite the metric`,
    { position: query.source.position(first.offset) });
}
