/**
 * Validation of one raw record, the same on the hot path and in the cold path's loader: bytes
 * that are not UTF-8, then the payload (payload-validator.ts), then the far-future rule
 * (future-guard.ts), in arrival order. Holds the stream's compiled validator and the guard's
 * per-partition state.
 */
import { FutureTimeGuard, type FutureReference } from './future-guard.js';
import { compilePayloadValidator, decodeAndValidate, notUtf8, type PayloadValidator, type ValidationResult } from './payload-validator.js';
import type { StreamDef } from './types.js';

/** What validation reads of a raw record (sources' RawRecord has these fields). */
export interface RecordText {
  readonly partition: number;
  /** The payload as UTF-8 text. */
  readonly value: string;
  /** Byte offset of the first invalid UTF-8 sequence, when the source found the bytes ill-formed. */
  readonly invalidUtf8At?: number;
}

export class RecordValidator {
  readonly #validate: PayloadValidator;
  readonly #future: FutureTimeGuard;

  constructor(stream: StreamDef, futureReference: FutureReference) {
    this.#validate = compilePayloadValidator(stream);
    this.#future = new FutureTimeGuard(stream, futureReference);
  }

  /** The valid event, or the rejection with its code and reason; `nowMs` is processing time. */
  check(record: RecordText, nowMs: number): ValidationResult {
    const decoded = record.invalidUtf8At === undefined ? decodeAndValidate(record.value, this.#validate) : notUtf8(record.invalidUtf8At);
    return decoded.ok ? this.#future.check(decoded, record.partition, nowMs) ?? decoded : decoded;
  }
}
