/**
 * Small pure helpers shared by the k6 scripts: reading settings from `__ENV` text, UUIDs and
 * plausible glucose values. No k6 imports, so they run (and can be tested) anywhere.
 */

export const DEFAULT_BASE_URL = 'http://127.0.0.1:3000';

/** The base URL without a trailing slash. */
export function baseUrlOf(value: string | undefined): string {
  const url = (value ?? '').trim() || DEFAULT_BASE_URL;
  if (!/^https?:\/\/[^/?#]+/i.test(url)) throw new Error(`BASE_URL must be an http(s) URL, got ${url}`);
  return url.replace(/\/+$/, '');
}

/** scheme://host[:port] of a URL: what a browser sends as `Origin`. */
export function originOf(url: string): string {
  const match = /^(https?:\/\/[^/?#]+)/i.exec(url);
  if (!match) throw new Error(`not an http(s) URL: ${url}`);
  return match[1]!;
}

/** A number setting; the default when unset or empty; throws on anything else that is not a number >= min. */
export function numberSetting(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number of at least ${min}, got ${value}`);
  return n;
}

/** A k6-style duration (`90s`, `5m`, `1h30m`, `250ms`, or a bare number of seconds) in ms. */
export function durationMs(name: string, value: string | undefined, fallback: string): number {
  const text = (value ?? '').trim() || fallback;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const part = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!part) throw new Error(`${name} must be a duration such as 90s, 5m or 1h30m, got ${text}`);
    total += Number(part[1]) * unit[part[2]!]!;
    rest = rest.slice(part[0].length);
  }
  return total;
}

/** A version 4 UUID from 16 random bytes (k6's `crypto.randomBytes(16)`). */
export function uuidFromBytes(bytes: Uint8Array): string {
  if (bytes.length < 16) throw new Error('a UUID needs 16 random bytes');
  const b = Array.from(bytes.slice(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = b.map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Picks a key by weight; `random` in [0, 1). */
export function pickWeighted<K extends string>(weights: Readonly<Record<K, number>>, random: number): K {
  const entries = Object.entries(weights) as [K, number][];
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let at = random * total;
  for (const [key, weight] of entries) {
    if (at < weight) return key;
    at -= weight;
  }
  return entries[entries.length - 1]![0];
}

/**
 * A plausible next glucose value (mmol/L, one decimal) after `previous`: a bounded random walk
 * around 7.5 that now and then drifts low or high (so some readings do open alerts, as on a real
 * ward), never outside what a meter displays without LO/HI (0.6-33.3). `random` gives [0, 1).
 */
export function nextGlucose(previous: number, random: () => number): number {
  const pull = (7.5 - previous) * 0.05; // back towards a typical mean
  const step = (random() - 0.5) * 1.2 + pull;
  const value = Math.min(22, Math.max(2.4, previous + step));
  return Math.round(value * 10) / 10;
}
