import { ApiError } from '../../common/api-error';

/** Readers of request-body fields: each returns the typed value or throws a 400 naming the parameter. */
export type Json = Record<string, unknown>;

export function invalid(message: string, param: string): never {
  throw ApiError.invalidRequest(message, param);
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The field read with `read`, or null when absent or null. `param` prefixes nested parameter names. */
export function optional<T>(
  body: Json,
  key: string,
  read: (value: unknown, param: string) => T,
  param = key,
): T | null {
  const value = body[key];
  return value === undefined || value === null ? null : read(value, param);
}

export function string(value: unknown, param: string): string {
  if (typeof value !== 'string') invalid(`Invalid type for '${param}': expected a string.`, param);
  return value;
}

export function boolean(value: unknown, param: string): boolean {
  if (typeof value !== 'boolean') invalid(`Invalid type for '${param}': expected a boolean.`, param);
  return value;
}

export function numberIn(min: number, max: number) {
  return (value: unknown, param: string): number => {
    if (typeof value !== 'number' || !Number.isFinite(value))
      invalid(`Invalid type for '${param}': expected a number.`, param);
    if (value < min || value > max) invalid(`Invalid '${param}': expected a value between ${min} and ${max}.`, param);
    return value;
  };
}

export function integerIn(min: number, max: number) {
  return (value: unknown, param: string): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      invalid(`Invalid '${param}': expected an integer between ${min} and ${max}.`, param);
    }
    return value;
  };
}

export function positiveInteger(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    invalid(`Invalid '${param}': expected a positive integer.`, param);
  }
  return value;
}

/** One of `allowed`, else 400 listing them (as OpenAI does for enum parameters). */
export function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: unknown, param: string): T => {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      invalid(
        `Invalid value for '${param}': ${JSON.stringify(value)}. Supported values are: ${allowed.map((v) => `'${v}'`).join(', ')}.`,
        param,
      );
    }
    return value as T;
  };
}

export function requiredString(item: Json, key: string, param: string): string {
  const value = item[key];
  if (typeof value !== 'string' || value === '')
    invalid(`Missing required parameter: '${param}.${key}'.`, `${param}.${key}`);
  return value;
}
