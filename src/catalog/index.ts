export type { Catalog, FieldDef, FieldLocation, FieldType, LookupSpec, PiiMode, StreamDef, StreamVersions, TableSpec, VersionDef } from './types.js';
export { declaredLayout, locationIn, payloadVersion, toDeclaredPaths } from './versions.js';
export { FIELD_TYPES, PII_MODES } from './types.js';
export { loadCatalog, parseCatalogFile, catalogFiles } from './load-catalog.js';
export { FutureTimeGuard, type FutureReference } from './future-guard.js';
export { RecordValidator, type RecordText } from './record-validator.js';
export { MAX_EXACT_INT, MAX_PAYLOAD_DEPTH, nestsDeeperThan, unpairedSurrogate } from './value-domain.js';
export {
  compilePayloadValidator, decodeAndValidate, getPath,
  type PayloadValidator, type QuarantineCode, type RejectedPayload, type ValidEvent, type ValidationResult,
} from './payload-validator.js';
export { tableAsStream } from './table-stream.js';
export { enrichmentLaneRecord, enrichmentLanes, enrichmentLaneStream } from './enrichment-lane.js';
