import { ConfigError } from './config-error';

export type Env = Record<string, string | undefined>;

/** The variable's value, or undefined when unset or blank. */
export function readEnv(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function integerFrom(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = readEnv(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function booleanFrom(env: Env, name: string): boolean | undefined {
  const raw = readEnv(env, name);
  if (raw === undefined) return undefined;
  const lower = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = readEnv(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/** Parses a URL whose scheme must be one of `protocols` (e.g. ['http:', 'https:']). */
export function urlFrom(env: Env, name: string, fallback: string, protocols: readonly string[]): URL {
  const raw = readEnv(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL: "${redactUrl(raw)}"`);
  }
  if (!protocols.includes(url.protocol)) {
    const schemes = protocols.map((p) => `${p}//`).join(' or ');
    throw new ConfigError(name, `must start with ${schemes}, got "${redactUrl(raw)}"`);
  }
  if (!url.hostname && !url.searchParams.get('host')) throw new ConfigError(name, `has no host: "${redactUrl(raw)}"`);
  return url;
}

/** The URL with any password replaced by `***`, safe to log. Works on malformed input too. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return raw.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}
