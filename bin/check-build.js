// Is dist/ present and, in a development checkout, newer than every source file?
// Plain JavaScript on purpose: it must run before (and without) the compiled code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Written by `npm run build` after tsc succeeded (scripts/build-stamp.js). */
export const STAMP = join(ROOT, 'dist', '.build-stamp');

/** The newest file under `dir` whose mtime is after `sinceMs`, or undefined. */
function newerThan(dir, sinceMs) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = newerThan(p, sinceMs);
      if (found) return found;
    } else if (statSync(p).mtimeMs > sinceMs) {
      return p;
    }
  }
  return undefined;
}

/**
 * Returns `{ code, message }` when the compiled code cannot be trusted: PW_BUILD_MISSING (no
 * dist/) or PW_BUILD_STALE (a file under src/ changed after the last build). Only a development
 * checkout (one with tsconfig.build.json) is checked for staleness; an installed package ships
 * dist/ alone as built.
 */
export function checkBuild() {
  if (!existsSync(STAMP)) {
    return { code: 'PW_BUILD_MISSING', message: `${relative(process.cwd(), join(ROOT, 'dist')) || 'dist'}/ has no complete build: run \`npm run build\` in ${ROOT} (npm install runs it too)` };
  }
  if (!existsSync(join(ROOT, 'tsconfig.build.json'))) return undefined;
  const changed = newerThan(join(ROOT, 'src'), statSync(STAMP).mtimeMs);
  if (changed) {
    return { code: 'PW_BUILD_STALE', message: `dist/ is older than ${relative(ROOT, changed)}: run \`npm run build\` in ${ROOT} (or \`npm run build -- --watch\` while editing)` };
  }
  return undefined;
}
