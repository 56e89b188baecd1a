/**
 * Positions inside a query file. node-sql-parser gives locations for some nodes only, so
 * column references and clause keywords are found by scanning the text's tokens (comments and
 * string literals skipped), starting from the nearest position the parser did give.
 */
import type { SourcePosition } from '../errors.js';

interface Token {
  readonly text: string;
  readonly lower: string;
  readonly offset: number;
  /** Parenthesis depth (0 = the statement's own level). */
  readonly depth: number;
}

export class SourceText {
  readonly file: string;
  readonly text: string;
  readonly #lineStarts: number[] = [0];
  readonly #tokens: Token[] = [];
  readonly #semicolons: number[] = [];
  /** `#deepest[k]`: offset of the first `(` that opened nesting level k + 1. */
  readonly #deepest: number[] = [];

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.#lineStarts.push(i + 1);
    this.#tokenize();
  }

  #tokenize(): void {
    const t = this.text;
    let depth = 0;
    let i = 0;
    while (i < t.length) {
      const c = t[i] as string;
      if (c === '-' && t[i + 1] === '-') { while (i < t.length && t[i] !== '\n') i++; continue; }
      if (c === '/' && t[i + 1] === '*') { const e = t.indexOf('*/', i + 2); i = e < 0 ? t.length : e + 2; continue; }
      if (c === "'") { i++; while (i < t.length && !(t[i] === "'" && t[i + 1] !== "'")) i += t[i] === "'" ? 2 : 1; i++; continue; }
      if (c === '(') {
        depth++;
        if (depth > this.#deepest.length) this.#deepest.push(i);
        i++;
        continue;
      }
      if (c === ')') { depth--; i++; continue; }
      if (c === ';' && depth === 0) { this.#semicolons.push(i); i++; continue; }
      if (c === '"') {
        const e = t.indexOf('"', i + 1);
        const end = e < 0 ? t.length : e + 1;
        this.#push(t.slice(i + 1, end - 1), i, depth);
        i = end;
        continue;
      }
      if (/[A-Za-z_]/.test(c)) {
        let j = i + 1;
        while (j < t.length && /[A-Za-z0-9_$]/.test(t[j] as string)) j++;
        this.#push(t.slice(i, j), i, depth);
        i = j;
        continue;
      }
      i++;
    }
  }

  #push(text: string, offset: number, depth: number): void {
    this.#tokens.push({ text, lower: text.toLowerCase(), offset, depth });
  }

  /** Offsets of the `;` outside parentheses, strings and comments: where statements end. */
  get semicolons(): readonly number[] {
    return this.#semicolons;
  }

  /**
   * Offset of the first `(` (outside strings and comments) that opens nesting level `level`
   * (1 = not inside any other parenthesis), or undefined when the text never nests that deep.
   */
  firstParenAtLevel(level: number): number | undefined {
    return this.#deepest[level - 1];
  }

  /** The deepest parenthesis nesting in the text (0 when it has none). */
  get maxParenLevel(): number {
    return this.#deepest.length;
  }

  /** The first identifier (bare or "quoted") longer than `maxLength` characters, or undefined. */
  firstLongIdentifier(maxLength: number): { readonly text: string; readonly offset: number } | undefined {
    const tok = this.#tokens.find((t) => t.text.length > maxLength && [...t.text].length > maxLength);
    return tok ? { text: tok.text, offset: tok.offset } : undefined;
  }

  /** 1-based line and column of a character offset. */
  position(offset: number): SourcePosition {
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#lineStarts[mid] as number) <= offset) lo = mid; else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: offset - (this.#lineStarts[lo] as number) + 1 };
  }

  /**
   * Offset of the first occurrence, at or after `from`, of the identifier path `names`
   * (`['data', 'orderTotal']` matches `data.orderTotal`), case-insensitively; falls back to the
   * first occurrence anywhere, then to `from`.
   */
  findPath(names: readonly string[], from = 0): number {
    const lower = names.map((n) => n.toLowerCase());
    const match = (start: number): number | undefined => {
      for (let k = start; k < this.#tokens.length; k++) {
        if (lower.every((n, j) => this.#tokens[k + j]?.lower === n)) return (this.#tokens[k] as Token).offset;
      }
      return undefined;
    };
    const first = this.#tokens.findIndex((tok) => tok.offset >= from);
    return (first >= 0 ? match(first) : undefined) ?? match(0) ?? from;
  }

  /**
   * Offset of the first `keyword` at or after `from` at parenthesis depth `depth` (any depth
   * when undefined), or undefined. Used to find clause starts (`where`, `group`, `having`) of a nested query.
   */
  findKeyword(keyword: string, depth: number | undefined, from = 0): number | undefined {
    const kw = keyword.toLowerCase();
    return this.#tokens.find((tok) => tok.lower === kw && (depth === undefined || tok.depth === depth) && tok.offset >= from)?.offset;
  }
}
