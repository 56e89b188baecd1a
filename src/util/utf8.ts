/**
 * UTF-8 at the edges: where the first ill-formed byte sequence starts, and the byte-order mark
 * (U+FEFF) that Windows tools put at the start of text files, which RFC 8259 §8.1 lets a
 * reader ignore. Shared by the NDJSON and Kafka sources, metric files and catalog files.
 */

/** The byte-order mark as a character (what a UTF-8 decoder makes of EF BB BF). */
export const BOM = '\uFEFF';

/** `text` without a leading byte-order mark. */
export function stripBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(BOM.length) : text;
}

/**
 * Byte offset of the first byte that is not part of a well-formed UTF-8 sequence (overlong
 * forms, surrogates U+D800–U+DFFF and values above U+10FFFF are ill-formed, per the Unicode
 * Standard's table 3-7), or -1 when every byte is. Meant for bytes `isUtf8` refused.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) { i++; continue; }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) { n = 2; if (b === 0xe0) lo = 0xa0; else if (b === 0xed) hi = 0x9f; }
    else if (b >= 0xf0 && b <= 0xf4) { n = 3; if (b === 0xf0) lo = 0x90; else if (b === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}
