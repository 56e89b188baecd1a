/**
 * A work budget for node-sql-parser. Its PEG parser has no memoization, and some shapes make it
 * backtrack exponentially: each parenthesized AND/OR group whose first operand is another such
 * group (`((a OR b) AND c) OR d …`) doubles the work, so 20 levels in 150 characters take tens of
 * seconds and then exhaust memory. The parser reads its input only through `charCodeAt` and
 * `substr`, so it is handed a String object whose two methods count calls and stop the parse
 * once the budget is spent. Ordinary metrics need about 10 to 50 calls per character; the budget
 * allows {@link PARSE_CALLS_PER_CHAR} per character on top of {@link PARSE_BASE_CALLS}.
 */

/** Calls allowed whatever the length: ample for any metric of ordinary shape. */
export const PARSE_BASE_CALLS = 1_000_000;
/** Further calls allowed per character of input. */
export const PARSE_CALLS_PER_CHAR = 100;

/** Thrown out of the parser when the budget is spent. */
export class ParseBudgetExceeded extends Error {
  constructor() {
    super('parse work budget exceeded');
    this.name = 'ParseBudgetExceeded';
  }
}

export interface MeteredInput {
  /** The text to hand to the parser (a String object, typed as the parser expects). */
  readonly input: string;
  /** The furthest offset the parser looked at: where it stopped, when it throws without a location. */
  furthest(): number;
}

/** Wraps `text` for one parse, with a budget derived from its length. */
export function meteredInput(text: string): MeteredInput {
  let left = PARSE_BASE_CALLS + PARSE_CALLS_PER_CHAR * text.length;
  let furthest = 0;
  const charCodeAt = String.prototype.charCodeAt;
  const substr = String.prototype.substr;
  const boxed = Object.assign(new String(text), {
    charCodeAt(this: string, at: number): number {
      if (--left < 0) throw new ParseBudgetExceeded();
      if (at > furthest) furthest = at;
      return charCodeAt.call(this, at);
    },
    substr(this: string, at: number, length?: number): string {
      if (--left < 0) throw new ParseBudgetExceeded();
      if (at > furthest) furthest = at;
      return substr.call(this, at, length);
    },
  });
  return { input: boxed as unknown as string, furthest: () => furthest };
}
