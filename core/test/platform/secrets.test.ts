import { describe, expect, it } from 'vitest';
import { hashDeviceToken, hashSecret, newSecret, verifySecret } from '../../src/platform/secrets.ts';

describe('stored secrets', () => {
  it('hashes passwords with argon2id at the OWASP minimum and device tokens with argon2id at a light cost', async () => {
    const password = 'correct horse battery staple';
    const token = newSecret();
    const passwordHash = await hashSecret(password);
    const tokenHash = await hashDeviceToken(token);
    expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(tokenHash).toMatch(/^\$argon2id\$v=19\$m=4096,t=1,p=1\$/);
    expect(passwordHash).not.toContain(password);
    expect(tokenHash).not.toContain(token);
    expect(await verifySecret(passwordHash, password)).toBe(true);
    expect(await verifySecret(tokenHash, token)).toBe(true);
    expect(await verifySecret(tokenHash, newSecret())).toBe(false);
    expect(await verifySecret('not a hash', token)).toBe(false);
  });

  it('makes device tokens of 192 random bits', () => {
    const tokens = new Set(Array.from({ length: 1000 }, newSecret));
    expect(tokens.size).toBe(1000);
    for (const t of tokens) expect(Buffer.from(t, 'base64url')).toHaveLength(24);
  });
});
