/**
 * Backslashes inside quoted SQL text are ordinary characters, as in PostgreSQL (with its default
 * standard_conforming_strings) and DuckDB: `'C:\temp'` is nine characters, `'a\'` is the string
 * `a\`. node-sql-parser instead reads JavaScript escapes there (`\t` becomes a tab, `\u0041` an
 * "A", and `\'` does not end the string), so the same metric would mean something else in
 * pitwall than in the engines it mirrors. Before parsing, each backslash inside '…' and "…" is
 * swapped for a character that does not occur in the file (same length: every offset stays);
 * after parsing, every string in the tree gets its backslashes back.
 */

/** A private-use character absent from `text`, or undefined when the file uses all of them. */
function unusedCharacter(text: string): string | undefined {
  for (let code = 0xe000; code <= 0xf8ff; code++) {
    const ch = String.fromCharCode(code);
    if (!text.includes(ch)) return ch;
  }
  return undefined;
}

export interface HiddenBackslashes {
  /** The text to parse: `text` with the backslashes inside quotes replaced, same length. */
  readonly text: string;
  /** Puts the backslashes back into every string of a parsed tree (in place); returns the tree. */
  readonly restore: <T>(ast: T) => T;
}

/** Hides the backslashes inside the quoted literals and identifiers of a metric file's text. */
export function hideBackslashes(text: string): HiddenBackslashes {
  const mark = text.includes('\\') ? unusedCharacter(text) : undefined;
  if (mark === undefined) return { text, restore: (ast) => ast };
  const out = text.split('');
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '-' && text[i + 1] === '-') { while (i < text.length && text[i] !== '\n') i++; continue; }
    if (c === '/' && text[i + 1] === '*') { const e = text.indexOf('*/', i + 2); i = e < 0 ? text.length : e + 2; continue; }
    if (c === "'" || c === '"') {
      // Inside quotes a doubled quote is the quote itself; a backslash never escapes anything.
      for (i++; i < text.length; i++) {
        if (text[i] === c) { if (text[i + 1] === c) { i++; continue; } break; }
        if (text[i] === '\\') out[i] = mark;
      }
    }
    i++;
  }
  const restore = <T>(ast: T): T => {
    const stack: unknown[] = [ast];
    while (stack.length > 0) {
      const node = stack.pop();
      if (typeof node !== 'object' || node === null) continue;
      const entries: [string | number, unknown][] = Array.isArray(node) ? [...node.entries()] : Object.entries(node);
      for (const [key, value] of entries) {
        if (typeof value === 'string' && value.includes(mark)) (node as Record<string | number, unknown>)[key] = value.split(mark).join('\\');
        else if (typeof value === 'object' && value !== null && key !== 'loc') stack.push(value);
      }
    }
    return ast;
  };
  return { text: out.join(''), restore };
}
