import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

/**
 * Passwords: argon2id with the OWASP-recommended minimum cost (19 MiB, 2 passes, 1 lane), about
 * 30 ms per check on this project's 2-core reference machine. The cost is what makes guessing a
 * human-chosen password offline slow.
 */
const PASSWORD_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Device tokens: argon2id too, at 4 MiB and 1 pass (about 2.3 ms per check, measured). A token is
 * 192 random bits, so no hash cost changes the odds of guessing it; what the cost does change is
 * whether 10,000 meters connecting after a server restart take 5 minutes of CPU (30 ms each) or
 * 20 seconds. The parameters travel inside each hash, so verification needs no setting.
 */
const DEVICE_TOKEN_OPTIONS = { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 } as const;

export const hashSecret = (secret: string): Promise<string> => argon2.hash(secret, PASSWORD_OPTIONS);

export const hashDeviceToken = (token: string): Promise<string> => argon2.hash(token, DEVICE_TOKEN_OPTIONS);

export async function verifySecret(hash: string, secret: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, secret);
  } catch {
    return false; // a malformed stored hash verifies nothing
  }
}

/** A new device token or generated password: 192 random bits, URL-safe. */
export const newSecret = (): string => randomBytes(24).toString('base64url');
