/** Output formats of `pitwall sql` (kept apart from the printer, which loads DuckDB). */
export const SQL_FORMATS = ['table', 'json', 'csv'] as const;
export type SqlFormat = (typeof SQL_FORMATS)[number];
