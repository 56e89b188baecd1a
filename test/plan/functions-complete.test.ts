/**
 * The scalar function library is one list with three views: every function the binder accepts
 * has a hot-path implementation, a DuckDB compilation and a row in the README's reference table
 * (its signature, NULL rule and example, as the registry states them).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COLD_FUNCTIONS } from '../../src/cold/functions/index.js';
import { HOT_FUNCTIONS } from '../../src/hot/eval/functions/index.js';
import { SCALAR_FUNCTION_LIST } from '../../src/plan/functions/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const cell = (text: string): string => text.replace(/\|/g, '\\|');

describe('the scalar function library', () => {
  it('has no function twice, and every name in lower case', () => {
    const names = SCALAR_FUNCTION_LIST.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toBe(n.toLowerCase());
  });
  it('implements every function on both paths, and nothing else', () => {
    const names = SCALAR_FUNCTION_LIST.map((f) => f.name).sort();
    expect(Object.keys(HOT_FUNCTIONS).sort()).toEqual(names);
    expect(Object.keys(COLD_FUNCTIONS).sort()).toEqual(names);
  });
  it.each(SCALAR_FUNCTION_LIST.map((f) => [f.name, f] as const))('documents %s() in the README reference table', (_name, f) => {
    const row = `| \`${cell(f.doc.signature)}\` | ${cell(f.doc.nulls)} | \`${cell(f.doc.example)}\` |`;
    expect(readme).toContain(row);
  });
});
