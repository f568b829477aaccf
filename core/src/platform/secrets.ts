import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

/**
 * argon2id with the OWASP-recommended minimum cost (19 MiB, 2 passes, 1 lane). Passwords and
 * device tokens are both stored this way and never in clear.
 */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashSecret = (secret: string): Promise<string> => argon2.hash(secret, ARGON2_OPTIONS);

export async function verifySecret(hash: string, secret: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, secret);
  } catch {
    return false; // a malformed stored hash verifies nothing
  }
}

/** A new device token or generated password: 192 random bits, URL-safe. */
export const newSecret = (): string => randomBytes(24).toString('base64url');
