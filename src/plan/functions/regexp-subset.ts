/**
 * The regular expressions pitwall accepts, and their translation for each engine.
 *
 * DuckDB runs RE2 and the hot path runs JavaScript's RegExp, which differ (`.` and `\s`, Unicode
 * classes, backreferences and lookaround in JavaScript only, POSIX classes in RE2 only, captures
 * in repetitions, …). A pattern is therefore a literal parsed at plan time against one subset,
 * with one meaning, and written out explicitly for each engine:
 *
 * | construct | meaning (both engines) |
 * |---|---|
 * | a character, or `\` + ASCII punctuation | itself (code point) |
 * | `\n` `\t` `\r` `\f` `\v` | the control character |
 * | `.` | any code point but `\n` |
 * | `\d` `\w` `\s` | ASCII only: `[0-9]`, `[0-9A-Za-z_]`, `[\t\n\v\f\r ]`; `\D` `\W` `\S` the complements |
 * | `[…]` `[^…]` | code points, ranges `a-z`, `\d` `\w` `\s` inside |
 * | `^` `$` `\b` | start, end of the text (not of lines); ASCII word boundary |
 * | `(…)` `(?:…)` `\|` | capturing and non-capturing groups, alternation |
 * | `*` `+` `?` `{n}` `{n,}` `{n,m}`, each maybe lazy (`*?`) | repetition, n ≤ m ≤ 1000 |
 *
 * Matching is leftmost-first (Perl's, which both engines follow for this subset). Refused, with
 * their position: anything else (backreferences, lookaround, named groups, flags, `\p{…}`,
 * `\x`, `\u`, POSIX classes, a lone `{` or `}`), counted repetitions whose nested maxima
 * multiply past 1000 (RE2's limit), a repetition of an anchor or of something that can match
 * the empty string (where the engines' empty-iteration rules differ).
 */

export type PerlClass = 'd' | 'D' | 'w' | 'W' | 's' | 'S';

export type ClassItem = { readonly kind: 'range'; readonly from: number; readonly to: number } | { readonly kind: 'perl'; readonly which: 'd' | 'w' | 's' };

export type RegexpNode =
  | { readonly kind: 'char'; readonly cp: number }
  | { readonly kind: 'any' }
  | { readonly kind: 'perl'; readonly which: PerlClass }
  | { readonly kind: 'class'; readonly negated: boolean; readonly items: readonly ClassItem[] }
  | { readonly kind: 'assert'; readonly which: '^' | '$' | 'b' }
  | { readonly kind: 'group'; readonly capture: boolean; readonly body: RegexpNode }
  | { readonly kind: 'alt'; readonly alts: readonly RegexpNode[] }
  | { readonly kind: 'seq'; readonly items: readonly RegexpNode[] }
  | { readonly kind: 'repeat'; readonly body: RegexpNode; readonly min: number; readonly max: number | undefined; readonly lazy: boolean };

/** A parsed pattern: its tree, its number of capturing groups, and where a capture sits inside a repetition (if one does). */
export interface ParsedRegexp {
  readonly root: RegexpNode;
  readonly groups: number;
  /**
   * 1-based position of the first repeated construct (more than once) holding a capturing group:
   * JavaScript resets captures at each iteration, RE2 keeps the last value they took.
   */
  readonly captureInRepeat: number | undefined;
}

/** A pattern outside the subset: what, and the 1-based code point position in the pattern. */
export class RegexpSubsetError extends Error {
  constructor(readonly detail: string, readonly at: number) {
    super(`${detail} at character ${at} of the pattern`);
  }
}

export const MAX_REPEAT = 1000;
const CONTROL: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, f: 12, v: 11 };
const PERL = 'dDwWsS';

class Parser {
  readonly #cps: readonly string[];
  #i = 0;
  groups = 0;
  captureInRepeat: number | undefined;

  constructor(source: string) { this.#cps = Array.from(source); }

  fail(detail: string, at = this.#i): never { throw new RegexpSubsetError(detail, at + 1); }
  peek(k = 0): string | undefined { return this.#cps[this.#i + k]; }
  next(): string { const c = this.#cps[this.#i++]; if (c === undefined) this.fail('the pattern ends too early'); return c; }
  get done(): boolean { return this.#i >= this.#cps.length; }

  parse(): RegexpNode {
    const root = this.alternation();
    if (!this.done) this.fail(this.peek() === ')' ? 'an unmatched )' : `unexpected ${this.peek() ?? ''}`);
    return root;
  }

  alternation(): RegexpNode {
    const alts = [this.sequence()];
    while (this.peek() === '|') { this.#i++; alts.push(this.sequence()); }
    return alts.length === 1 ? alts[0] as RegexpNode : { kind: 'alt', alts };
  }

  sequence(): RegexpNode {
    const items: RegexpNode[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) items.push(this.quantified());
    return items.length === 1 ? items[0] as RegexpNode : { kind: 'seq', items };
  }

  quantified(): RegexpNode {
    const start = this.#i;
    const captureBefore = this.groups;
    const repeated = this.peekQuantifier();
    if (repeated) this.fail(`nothing to repeat before ${repeated}`);
    let body = this.atom();
    for (let q = this.quantifier(); q; q = this.quantifier()) {
      if (body.kind === 'repeat') this.fail('a repetition of a repetition (write (?:…) around the first)', q.at);
      if (body.kind === 'assert') this.fail('a repetition of an anchor', q.at);
      // JavaScript rejects an optional iteration that matches nothing, RE2 takes it: (a??)? differs.
      if (nullable(body)) this.fail('a repetition of something that can match the empty string', q.at);
      // At most one iteration (`?`, `{0,1}`) leaves one value; more may differ between engines.
      if (this.groups > captureBefore && (q.max === undefined || q.max > 1)) this.captureInRepeat ??= start + 1;
      body = { kind: 'repeat', body, min: q.min, max: q.max, lazy: q.lazy };
    }
    return body;
  }

  peekQuantifier(): string | undefined {
    const c = this.peek();
    return c === '*' || c === '+' || c === '?' ? c : undefined;
  }

  quantifier(): { min: number; max: number | undefined; lazy: boolean; at: number } | undefined {
    const at = this.#i;
    const c = this.peek();
    let min: number;
    let max: number | undefined;
    if (c === '*') { min = 0; max = undefined; this.#i++; }
    else if (c === '+') { min = 1; max = undefined; this.#i++; }
    else if (c === '?') { min = 0; max = 1; this.#i++; }
    else if (c === '{') {
      const rest = this.#cps.slice(this.#i, this.#i + 16).join('');
      const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(rest);
      if (!m) this.fail('a { that is not a repetition {n}, {n,} or {n,m} (write \\{ for the character)');
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? undefined : Number(m[3]);
      if ((max ?? min) > MAX_REPEAT) this.fail(`a repetition count above ${MAX_REPEAT}`);
      if (max !== undefined && max < min) this.fail(`a repetition {${min},${max}} whose maximum is below its minimum`);
      this.#i += m[0].length;
    } else return undefined;
    const lazy = this.peek() === '?';
    if (lazy) this.#i++;
    return { min, max, lazy, at };
  }

  atom(): RegexpNode {
    const at = this.#i;
    const c = this.next();
    switch (c) {
      case '.': return { kind: 'any' };
      case '^': return { kind: 'assert', which: '^' };
      case '$': return { kind: 'assert', which: '$' };
      case '[': return this.charClass(at);
      case '(': return this.group(at);
      case '\\': return this.escape(at, false) as RegexpNode;
      case '{': case '}': return this.fail(`a lone ${c} (write \\${c} for the character)`, at);
      case ']': return this.fail('a lone ] (write \\] for the character)', at);
      default: return { kind: 'char', cp: c.codePointAt(0) as number };
    }
  }

  group(at: number): RegexpNode {
    let capture = true;
    if (this.peek() === '?') {
      if (this.peek(1) !== ':') this.fail(`the group (?${this.peek(1) ?? ''}… (lookaround, named groups and flags are not in the subset; (?:…) is)`, at);
      this.#i += 2;
      capture = false;
    }
    if (capture) this.groups++;
    const body = this.alternation();
    if (this.peek() !== ')') this.fail('a ( without its )', at);
    this.#i++;
    return { kind: 'group', capture, body };
  }

  /** After `\`: a node outside classes; inside a class a code point or a positive Perl class. */
  escape(at: number, inClass: boolean): RegexpNode | ClassItem {
    const c = this.peek();
    if (c === undefined) return this.fail('a pattern that ends with \\', at);
    this.#i++;
    if (c in CONTROL) return { kind: 'char', cp: CONTROL[c] as number };
    if (PERL.includes(c)) {
      if (!inClass) return { kind: 'perl', which: c as PerlClass };
      if (c === 'd' || c === 'w' || c === 's') return { kind: 'perl', which: c };
      return this.fail(`\\${c} inside [...] (write [^...] or move it out of the brackets)`, at);
    }
    if (!inClass && c === 'b') return { kind: 'assert', which: c };
    // V8 tries \B between the two halves of a surrogate pair (where RE2, on code points, does not).
    if (!inClass && c === 'B') return this.fail('the escape \\B (not a word boundary; write the characters expected around it)', at);
    if (/^[!-/:-@[-`{-~]$/.test(c)) return { kind: 'char', cp: c.codePointAt(0) as number };
    if (/^[1-9]$/.test(c)) return this.fail(`the backreference \\${c}`, at);
    return this.fail(`the escape \\${c}`, at);
  }

  charClass(at: number): RegexpNode {
    const negated = this.peek() === '^';
    if (negated) this.#i++;
    const items: ClassItem[] = [];
    if (this.peek() === ']') this.fail('an empty [] or a ] first in brackets (write \\] for the character)', this.#i);
    for (;;) {
      const here = this.#i;
      const c = this.peek();
      if (c === undefined) return this.fail('a [ without its ]', at);
      if (c === ']') { this.#i++; break; }
      const from = this.classAtom();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.#i++;
        const to = this.classAtom();
        if (from.kind !== 'range' || to.kind !== 'range') this.fail('a range with a class \\d, \\w or \\s at one end', here);
        if (to.from < from.from) this.fail('a range whose end comes before its start', here);
        items.push({ kind: 'range', from: from.from, to: to.from });
      } else items.push(from);
    }
    return { kind: 'class', negated, items };
  }

  classAtom(): ClassItem {
    const at = this.#i;
    const c = this.next();
    if (c === '[') return this.fail('a [ inside [...] (POSIX classes like [:alpha:] are not in the subset; write \\[ for the character)', at);
    if (c !== '\\') return { kind: 'range', from: c.codePointAt(0) as number, to: c.codePointAt(0) as number };
    const e = this.escape(at, true);
    if (e.kind === 'char') return { kind: 'range', from: e.cp, to: e.cp };
    if (e.kind === 'perl') return e as ClassItem;
    return this.fail('an escape that is not a character inside [...]', at);
  }
}

/** True when `n` can match the empty string. */
function nullable(n: RegexpNode): boolean {
  switch (n.kind) {
    case 'char': case 'any': case 'perl': case 'class': return false;
    case 'assert': return true;
    case 'group': return nullable(n.body);
    case 'alt': return n.alts.some(nullable);
    case 'seq': return n.items.every(nullable);
    case 'repeat': return n.min === 0 || nullable(n.body);
  }
}

/** The largest product of nested repetition maxima (an unbounded one counts its minimum, at least 1). */
function repeatWeight(n: RegexpNode): number {
  switch (n.kind) {
    case 'group': return repeatWeight(n.body);
    case 'alt': return n.alts.reduce((w, a) => Math.max(w, repeatWeight(a)), 1);
    case 'seq': return n.items.reduce((w, a) => Math.max(w, repeatWeight(a)), 1);
    case 'repeat': return Math.max(1, n.max ?? n.min) * repeatWeight(n.body);
    default: return 1;
  }
}

/** Parses `source` against the subset; throws {@link RegexpSubsetError} for anything outside it. */
export function parseRegexp(source: string): ParsedRegexp {
  const p = new Parser(source);
  const root = p.parse();
  if (repeatWeight(root) > MAX_REPEAT) throw new RegexpSubsetError(`nested repetitions that repeat more than ${MAX_REPEAT} times`, 1);
  return { root, groups: p.groups, captureInRepeat: p.captureInRepeat };
}

// ---- writing a parsed pattern for each engine ------------------------------------------------

interface Dialect { readonly cp: (cp: number) => string }

/** JavaScript RegExp source for the `u` flag. */
const JS: Dialect = { cp: (cp) => (/[0-9A-Za-z]/.test(String.fromCodePoint(cp)) ? String.fromCodePoint(cp) : `\\u{${cp.toString(16)}}`) };
/** RE2 source (DuckDB). */
const RE2: Dialect = { cp: (cp) => (/[0-9A-Za-z]/.test(String.fromCodePoint(cp)) ? String.fromCodePoint(cp) : `\\x{${cp.toString(16)}}`) };

const PERL_ITEMS: Readonly<Record<'d' | 'w' | 's', readonly (readonly [number, number])[]>> = {
  d: [[0x30, 0x39]],
  w: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f]],
  s: [[0x09, 0x0d], [0x20, 0x20]], // \t \n \v \f \r and space
};

function ranges(d: Dialect, items: readonly (readonly [number, number])[]): string {
  return items.map(([a, b]) => (a === b ? d.cp(a) : `${d.cp(a)}-${d.cp(b)}`)).join('');
}

function write(n: RegexpNode, d: Dialect): string {
  switch (n.kind) {
    case 'char': return d.cp(n.cp);
    case 'any': return `[^${d.cp(10)}]`;
    case 'perl': {
      const lower = n.which.toLowerCase() as 'd' | 'w' | 's';
      return `[${n.which === lower ? '' : '^'}${ranges(d, PERL_ITEMS[lower])}]`;
    }
    case 'class': {
      const items = n.items.flatMap((i) => (i.kind === 'range' ? [[i.from, i.to] as const] : PERL_ITEMS[i.which]));
      return `[${n.negated ? '^' : ''}${ranges(d, items)}]`;
    }
    case 'assert': return n.which === '^' || n.which === '$' ? n.which : `\\${n.which}`;
    case 'group': return `(${n.capture ? '' : '?:'}${write(n.body, d)})`;
    case 'alt': return n.alts.map((a) => write(a, d)).join('|');
    case 'seq': return n.items.map((i) => (i.kind === 'alt' ? `(?:${write(i, d)})` : write(i, d))).join('');
    case 'repeat': {
      const body = n.body.kind === 'seq' || n.body.kind === 'alt' ? `(?:${write(n.body, d)})` : write(n.body, d);
      const q = n.min === 0 && n.max === undefined ? '*' : n.min === 1 && n.max === undefined ? '+' : n.min === 0 && n.max === 1 ? '?'
        : n.max === undefined ? `{${n.min},}` : n.max === n.min ? `{${n.min}}` : `{${n.min},${n.max}}`;
      return `${body}${q}${n.lazy ? '?' : ''}`;
    }
  }
}

/** The pattern as JavaScript RegExp source, to be compiled with the `u` flag. */
export const jsRegexpSource = (p: ParsedRegexp): string => write(p.root, JS);
/** The pattern as RE2 source, for DuckDB's regexp functions. */
export const re2Source = (p: ParsedRegexp): string => write(p.root, RE2);
