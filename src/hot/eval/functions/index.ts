/** Every library function's hot-path implementation, by its lower-case SQL name. */
import { HOT_CONDITIONAL } from './conditional.js';
import { HOT_JSON } from './json.js';
import { HOT_NUMERIC } from './numeric.js';
import { HOT_REGEXP } from './regexp.js';
import { HOT_STRING } from './string.js';
import { HOT_TIME } from './time.js';
import type { HotFunction } from './types.js';

export type { HotFunction } from './types.js';

export const HOT_FUNCTIONS: Readonly<Record<string, HotFunction>> = { ...HOT_STRING, ...HOT_REGEXP, ...HOT_JSON, ...HOT_NUMERIC, ...HOT_CONDITIONAL, ...HOT_TIME };
