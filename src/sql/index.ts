export { parseQuery, EMIT_MODES, TIERS, type EmitMode, type ParsedQuery, type Tier } from './parse-query.js';
export { SourceText } from './source-text.js';
export type { SqlNode } from './ast.js';
