/**
 * No code in src/ spreads an array into call arguments (`out.push(...rows)`, `Math.max(...xs)`,
 * `String.fromCharCode(...codes)`): every argument lands on the stack, and past roughly 100,000
 * elements V8 throws "Maximum call stack size exceeded" — which is how self-reconciliation broke
 * once an archive's late lane grew. Append in a loop or fold with reduce instead.
 *
 * The few spreads whose length is bounded by something small (a SELECT list, the keys of one AST
 * node, the partitions of a topic) are listed below with the bound that makes them safe.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** `file: call text` → why its length is bounded. */
const BOUNDED: Record<string, string> = {
  'src/plan/build-plan.ts: rankedCols.push(...aggCols.map((_, i) => i))': 'one per aggregate of a SELECT list',
  'src/plan/build-plan.ts: outCols.push(...rankedCols)': 'one per column of a SELECT list',
  'src/sql/ast-usage.ts: stack.push(...next.reverse())': 'one per key of a single AST node (arrays are pushed in a loop)',
  'src/cli/pitwall-command.ts: fn(...(args as never[]))': "a command's declared arguments, its options and itself",
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mjs|js)$/.test(f) ? [p.split('\\').join('/')] : [];
  });
}

/** `file: call text` of every spread argument in a call or `new` expression. */
function spreadCalls(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isSpreadElement(node) && (ts.isCallExpression(node.parent) || ts.isNewExpression(node.parent))) {
      found.push(`${file}: ${node.parent.getText(sf).replace(/\s+/g, ' ')}`);
    }
    // Browser code shipped as text (the pit-wall page's script) is checked by pattern.
    if (ts.isTemplateLiteral(node) || ts.isStringLiteral(node)) {
      for (const m of node.getText(sf).matchAll(/[\w.]*\b(?:max|min|push|unshift|fromCharCode|fromCodePoint|apply)\(\s*\.\.\.[^;\n]*/g)) found.push(`${file}: ${m[0]}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('the scan', () => {
  it('finds spreads in calls, in new, and in browser code held in strings', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pw-spread-')), 'sample.ts');
    writeFileSync(file, [
      'out.push(...(r.getRowObjectsJson() as unknown as LateLine[]));',
      'const m = Math.max(...xs, 0);',
      'const d = new Date(...parts);',
      'const ok = [...a, ...b]; const o = { ...x };',
      'const page = `<script>const hi = Math.max(...ys, 0);</script>`;',
    ].join('\n'));
    expect(spreadCalls(file).map((s) => s.slice(s.indexOf(': ') + 2))).toEqual([
      'out.push(...(r.getRowObjectsJson() as unknown as LateLine[]))', 'Math.max(...xs, 0)', 'new Date(...parts)', 'Math.max(...ys, 0)',
    ]);
  });
});

describe('src/', () => {
  it('spreads no unbounded array into call arguments', () => {
    const all = sources('src').flatMap(spreadCalls);
    expect(all.filter((s) => !(s in BOUNDED))).toEqual([]);
  });
});
