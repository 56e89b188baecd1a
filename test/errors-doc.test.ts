/** Every error code raised in src/ is documented in docs/errors.md, and nothing documented is stale. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('docs/errors.md', () => {
  it('lists exactly the codes the code raises', () => {
    // bin/ holds the build check, which runs before the compiled sources.
    const files = [...sources('src'), ...readdirSync('bin').filter((f) => f.endsWith('.js')).map((f) => join('bin', f))];
    const used = new Set(files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/'(PW_[A-Z_]+)'/g)].map((m) => m[1] as string)));
    const documented = new Set([...readFileSync('docs/errors.md', 'utf8').matchAll(/^\| `(PW_[A-Z_]+)` \|/gm)].map((m) => m[1] as string));
    expect([...used].filter((c) => !documented.has(c))).toEqual([]);
    expect([...documented].filter((c) => !used.has(c))).toEqual([]);
  });
});
