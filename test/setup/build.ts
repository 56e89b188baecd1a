/**
 * Global setup of every test project: tests that start `bin/pitwall.js` run the compiled dist/,
 * so a missing or stale build is rebuilt once here (`npm test` builds first anyway; this keeps a
 * bare `npx vitest` after an edit honest instead of failing with PW_BUILD_STALE in a child).
 */
import { execFileSync } from 'node:child_process';
import { checkBuild } from '../../bin/check-build.js';

export default function setup(): void {
  const problem = checkBuild();
  if (!problem) return;
  process.stderr.write(`pitwall tests: ${problem.code}, building dist/ first (npm run build)\n`);
  try {
    execFileSync('npm', ['run', 'build'], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    // Tests of the sources still run; those that start bin/pitwall.js fail with PW_BUILD_STALE.
    process.stderr.write('\n!!! pitwall tests: `npm run build` failed (above); tests that start the pitwall command will fail\n');
  }
}
