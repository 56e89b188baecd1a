export type { Catalog, FieldDef, FieldType, PiiMode, StreamDef } from './types.js';
export { FIELD_TYPES, PII_MODES } from './types.js';
export { loadCatalog, parseCatalogFile, catalogFiles } from './load-catalog.js';
export {
  compilePayloadValidator, decodeAndValidate, getPath,
  type PayloadValidator, type QuarantineCode, type RejectedPayload, type ValidEvent, type ValidationResult,
} from './payload-validator.js';
