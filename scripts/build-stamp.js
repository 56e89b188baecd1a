// Marks dist/ as a complete build of the current sources (bin/check-build.js compares against it).
import { writeFileSync } from 'node:fs';
import { STAMP } from '../bin/check-build.js';

writeFileSync(STAMP, `${new Date().toISOString()}\n`);
