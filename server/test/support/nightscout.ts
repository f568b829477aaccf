import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
export const sha512 = (text: string) => createHash('sha512').update(text).digest('hex');

export interface NightscoutCall {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the JSON body gzipped, as xDrip+ does once it sees Express. */
  gzip?: boolean;
}

/** A Nightscout uploader's HTTP request: real fetch, JSON body (gzipped if asked), the answer parsed. */
export async function nightscout(base: string, path: string, call: NightscoutCall = {}) {
  const json = call.body === undefined ? undefined : JSON.stringify(call.body);
  const body = json === undefined ? undefined : call.gzip ? gzipSync(json) : json;
  const response = await fetch(`${base}${path}`, {
    method: call.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(call.gzip ? { 'content-encoding': 'gzip' } : {}),
      ...call.headers,
    },
    body,
  });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

/** Nightscout's 401 body, exactly. */
export const UNAUTHORIZED = { status: 401, message: 'Unauthorized', description: 'Invalid/Missing' };
