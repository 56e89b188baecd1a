/** Every library function's DuckDB SQL, by its lower-case SQL name. */
import { COLD_CONDITIONAL } from './conditional.js';
import { COLD_JSON } from './json.js';
import { COLD_NUMERIC } from './numeric.js';
import { COLD_REGEXP } from './regexp.js';
import { COLD_STRING } from './string.js';
import { COLD_TIME } from './time.js';
import type { ColdFunction } from './types.js';

export type { ColdFunction } from './types.js';

export const COLD_FUNCTIONS: Readonly<Record<string, ColdFunction>> = { ...COLD_STRING, ...COLD_REGEXP, ...COLD_JSON, ...COLD_NUMERIC, ...COLD_CONDITIONAL, ...COLD_TIME };
