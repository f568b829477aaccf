import { describe, expect, it } from 'vitest';
import { hashDeviceToken, verifySecret } from '@glucoboard/core/platform';
import { ChangeCounter } from '../src/realtime/change-counter.ts';
import { DUMMY_HASH, parseDeviceAuth } from '../src/realtime/device-auth.ts';
import { VerifiedDeviceCache } from '../src/realtime/device-cache.ts';

const device = (deviceId: string) => ({
  deviceId,
  kind: 'cgm' as const,
  patientId: `patient-${deviceId}`,
  teamId: 'team',
});

describe('VerifiedDeviceCache', () => {
  it('keys by device and token without holding the token', () => {
    const key = VerifiedDeviceCache.key('CGM-1', 'secret-token');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toBe(VerifiedDeviceCache.key('CGM-1', 'other-token'));
    // The separator keeps ('ab', 'c') and ('a', 'bc') apart.
    expect(VerifiedDeviceCache.key('ab', 'c')).not.toBe(VerifiedDeviceCache.key('a', 'bc'));
  });

  it('forgets an entry unused for its TTL, and any entry at its maximum age however much it is used', () => {
    let now = 1_000;
    const cache = new VerifiedDeviceCache({ ttlMs: 300_000, maxAgeMs: 900_000, maxEntries: 10, now: () => now });
    cache.set('k', device('A'));
    now += 299_999;
    expect(cache.get('k')).toEqual(device('A'));
    // Used just now: another five minutes from here.
    now += 299_999;
    expect(cache.get('k')).toEqual(device('A'));
    now += 299_999;
    expect(cache.get('k')).toEqual(device('A'));
    // Fifteen minutes after verification: verify again.
    now += 3;
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set('idle', device('B'));
    now += 300_000;
    expect(cache.get('idle')).toBeUndefined();
  });

  it('stays within its size, dropping the oldest verification first', () => {
    const cache = new VerifiedDeviceCache({ ttlMs: 60_000, maxEntries: 3 });
    for (const id of ['A', 'B', 'C', 'D']) cache.set(id, device(id));
    expect(cache.size).toBe(3);
    expect(cache.get('A')).toBeUndefined();
    expect(cache.get('D')).toEqual(device('D'));
  });

  it('drops every verification of one device and nothing else', () => {
    const cache = new VerifiedDeviceCache({ ttlMs: 60_000, maxEntries: 10 });
    cache.set('old-token', device('A'));
    cache.set('new-token', device('A'));
    cache.set('other', device('B'));
    expect(cache.dropDevice('A')).toBe(2);
    expect([cache.get('old-token'), cache.get('new-token'), cache.get('other')]).toEqual([
      undefined,
      undefined,
      device('B'),
    ]);
    expect(cache.dropDevice('A')).toBe(0);
  });
});

describe('parseDeviceAuth', () => {
  it('accepts two non-empty strings and nothing else', () => {
    expect(parseDeviceAuth({ deviceId: 'CGM-1', token: 't' })).toEqual({ deviceId: 'CGM-1', token: 't' });
    for (const bad of [
      undefined,
      null,
      'CGM-1:t',
      {},
      { deviceId: 'CGM-1' },
      { deviceId: 1, token: 't' },
      { deviceId: 'CGM-1', token: 2 },
      { deviceId: '', token: 't' },
      { deviceId: 'CGM-1', token: '' },
      { deviceId: 'x'.repeat(65), token: 't' },
      { deviceId: 'CGM-1', token: 'x'.repeat(257) },
    ]) {
      expect(parseDeviceAuth(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});

describe('the dummy hash for unknown devices', () => {
  it('costs what a real token hash costs, and matches no token', async () => {
    const parameters = (hash: string) => hash.split('$').slice(1, 4).join('$');
    expect(parameters(DUMMY_HASH)).toBe(parameters(await hashDeviceToken('any token')));
    expect(await verifySecret(DUMMY_HASH, '')).toBe(false);
  });
});

describe('ChangeCounter', () => {
  it('reads again when a change lands during the read', async () => {
    const changes = new ChangeCounter();
    let reads = 0;
    const result = await changes.readStable(async () => {
      reads++;
      if (reads === 1) changes.bump(); // e.g. a membership deleted while the handshake queried
      return reads;
    });
    expect(result).toBe(2);
  });

  it('gives up when changes never stop', async () => {
    const changes = new ChangeCounter();
    await expect(changes.readStable(async () => changes.bump(), 3)).rejects.toThrow(/3 reads/);
  });
});
