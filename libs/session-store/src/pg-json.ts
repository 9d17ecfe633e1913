/** Values PostgreSQL accepts in text and jsonb columns (it refuses NUL characters and lone surrogates). */

/** Text PostgreSQL accepts: no NUL, no lone surrogate (U+FFFD in their place). */
export function text(value: string): string {
  const wellFormed = (value as string & { toWellFormed(): string }).toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '\uFFFD') : wellFormed;
}

/** JSON PostgreSQL's jsonb accepts: every string value and every key passed through text(). */
function acceptable(value: unknown): unknown {
  if (typeof value === 'string') return text(value);
  if (Array.isArray(value)) return value.map(acceptable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [text(key), acceptable(entry)]));
  }
  return value;
}

/**
 * JSON text jsonb accepts. JSON.stringify writes NUL and lone surrogates as `\u` escapes, so text
 * without any needs no repair: the common case costs one stringify, not a walk and a copy of the value.
 */
export function jsonText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const json = JSON.stringify(value);
  return json.includes('\\u') ? JSON.stringify(acceptable(value)) : json;
}
