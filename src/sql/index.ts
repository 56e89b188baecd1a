export { parseQuery, EMIT_MODES, type EmitMode, type ParsedQuery } from './parse-query.js';
export { SourceText } from './source-text.js';
export type { SqlNode } from './ast.js';
