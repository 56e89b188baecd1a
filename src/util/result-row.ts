/**
 * The result row format both paths write: keys are output column names, timestamps ISO-8601
 * UTC with milliseconds, numbers JSON numbers, NULL as null.
 */
export type ResultValue = string | number | boolean | null;
export type ResultRow = Record<string, ResultValue>;
