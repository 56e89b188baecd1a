#!/usr/bin/env node
// The `pitwall` command: runs the compiled JavaScript in dist/ (`npm run build`, which `npm install`
// runs in a clone). In a development checkout it refuses a dist/ older than src/.
import { checkBuild } from './check-build.js';

const problem = checkBuild();
if (problem) {
  process.stderr.write(`error[${problem.code}] ${problem.message}\n`);
  process.exit(1);
}
// A reader that went away (`pitwall sql … | head`) ends the command quietly, as other CLIs do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
