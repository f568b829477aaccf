import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import {
  deviceByNightscoutDigest,
  deviceByTokenIssue,
  followerById,
  followerByNightscoutDigest,
  nightscoutKey,
  type NightscoutDevice,
  type NightscoutDigests,
  type NightscoutFollower,
} from '@glucoboard/core/storage';

/**
 * A device's token is also its Nightscout API secret. Uploaders send the lowercase SHA-1 hex of
 * the secret (some SHA-512 hex), which cannot be checked against the token's argon2 hash; so the
 * device row also keeps lookup digests: HMAC-SHA256, under the installation's key, of the SHA-1
 * and SHA-512 hex of its token, found by an index.
 *
 * A keyed fast hash is sound here, where it would not be for passwords: the tokens are generated
 * by the server with 192 random bits, so no dictionary or brute force can invert a digest
 * whatever its speed, and the HMAC key (kept in the database's storage_state, shared by every
 * server of the installation and surviving restarts) means a copy of the devices table alone
 * does not even give the SHA-1 values an uploader sends. Its speed is what lets every request of
 * 1,000 uploaders be checked without a cache, so a rotation or revocation is seen at once by
 * every server.
 *
 * A follower's read-only token (nightscout_followers) is kept and found the same way.
 */

/** Whom a Nightscout credential names: an uploading device, or a follower who may only read. */
export type NightscoutCredential =
  | { kind: 'device'; device: NightscoutDevice }
  | { kind: 'follower'; follower: NightscoutFollower };

const keys = new WeakMap<pg.Pool, Promise<Buffer>>();

/** The installation's key, read once per pool (it never changes). */
function keyOf(db: pg.Pool): Promise<Buffer> {
  let key = keys.get(db);
  if (!key) {
    key = nightscoutKey(db).then((hex) => Buffer.from(hex, 'hex'));
    key.catch(() => keys.delete(db)); // a database that failed is asked again next time
    keys.set(db, key);
  }
  return key;
}

const hex = (algorithm: 'sha1' | 'sha512', text: string) => createHash(algorithm).update(text, 'utf8').digest('hex');
const digestOf = (key: Buffer, value: string) => createHmac('sha256', key).update(value).digest('hex');

/** The lookup digests of a new token, to store on its device at pairing and rotation. */
export async function nightscoutDigests(db: pg.Pool, token: string): Promise<NightscoutDigests> {
  const key = await keyOf(db);
  return { sha1: digestOf(key, hex('sha1', token)), sha512: digestOf(key, hex('sha512', token)) };
}

const SHA1_HEX = /^[0-9a-f]{40}$/i;
const SHA512_HEX = /^[0-9a-f]{128}$/i;
/** Device tokens are 32 characters; this bounds what is hashed for a value that is not a hash. */
const MAX_SECRET = 256;

/**
 * The unrevoked device or follower an API secret names: its SHA-1 hex, its SHA-512 hex (either
 * case), or the token itself (as `?token=` and the JWT request carry it). Tokens are random, so
 * a digest names one of them at most.
 */
export async function credentialBySecret(db: pg.Pool, secret: string): Promise<NightscoutCredential | undefined> {
  if (secret.length === 0 || secret.length > MAX_SECRET) return undefined;
  const key = await keyOf(db);
  const [hash, digest] = SHA512_HEX.test(secret)
    ? (['sha512', digestOf(key, secret.toLowerCase())] as const)
    : (['sha1', digestOf(key, SHA1_HEX.test(secret) ? secret.toLowerCase() : hex('sha1', secret))] as const);
  const device = await deviceByNightscoutDigest(db, hash, digest);
  if (device) return { kind: 'device', device };
  const follower = await followerByNightscoutDigest(db, hash, digest);
  return follower ? { kind: 'follower', follower } : undefined;
}

// --- JWT (HS256), as Nightscout's /api/v2/authorization/request/<token> issues them -------------

/** Nightscout's JWTs last 8 hours. */
export const JWT_LIFETIME_S = 8 * 3600;

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

interface Claims {
  /** The device serial, or the follower's id. */
  sub: string;
  /** A device's token issue time in ms: a rotation makes every JWT of the old token invalid. */
  gen?: number;
  /** Set for a follower (whose token is never rotated, only revoked). */
  follower?: true;
  iat: number;
  exp: number;
}

/** A JWT for the device or follower, signed with the installation's key: { token, iat, exp }. */
export async function issueJwt(
  db: pg.Pool,
  credential: NightscoutCredential,
  nowMs = Date.now(),
): Promise<{ token: string; iat: number; exp: number }> {
  const iat = Math.floor(nowMs / 1000);
  const named =
    credential.kind === 'device'
      ? { sub: credential.device.deviceId, gen: credential.device.tokenIssuedMs }
      : { sub: credential.follower.followerId, follower: true as const };
  const claims: Claims = { ...named, iat, exp: iat + JWT_LIFETIME_S };
  const body = `${HEADER}.${base64url(JSON.stringify(claims))}`;
  const signature = createHmac('sha256', await keyOf(db))
    .update(body)
    .digest('base64url');
  return { token: `${body}.${signature}`, iat: claims.iat, exp: claims.exp };
}

/**
 * The device or follower a JWT names, if it verifies, has not expired, and the credential is
 * unrevoked (and, for a device, its token unchanged).
 */
export async function credentialByJwt(
  db: pg.Pool,
  jwt: string,
  nowMs = Date.now(),
): Promise<NightscoutCredential | undefined> {
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER || jwt.length > 2048) return undefined;
  const expected = createHmac('sha256', await keyOf(db))
    .update(`${parts[0]}.${parts[1]}`)
    .digest();
  const given = Buffer.from(parts[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let claims: Partial<Claims>;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Partial<Claims>;
  } catch {
    return undefined;
  }
  const { sub, gen, exp, follower } = claims;
  if (typeof sub !== 'string' || typeof exp !== 'number' || exp * 1000 <= nowMs) return undefined;
  if (follower === true) {
    const found = await followerById(db, sub);
    return found ? { kind: 'follower', follower: found } : undefined;
  }
  if (typeof gen !== 'number') return undefined;
  const device = await deviceByTokenIssue(db, sub, gen);
  return device ? { kind: 'device', device } : undefined;
}
