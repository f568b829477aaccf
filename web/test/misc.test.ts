import { describe, expect, it } from 'vitest';
import { ApiError, errorOf, query, request } from '../src/lib/api';
import { decimate, glucoseDomain, nearestIndex, segments, valueTicks } from '../src/lib/charts/scales';
import { connectionState, OFFLINE_AFTER_MS } from '../src/lib/connection';
import { elapsed, formatPercent, fromLocalInput, toLocalInput } from '../src/lib/format';
import { safeNext } from '../src/lib/navigation';
import { contrast, RANGE_COLOURS } from '../src/lib/palette';
import { pickTeam, PREFERENCE_KEYS, readSound, readTeam, readUnit, write } from '../src/lib/preferences';
import { MGDL_PER_MMOL } from '../src/lib/domain';

function memory(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => values.get(k) ?? null,
    setItem: (k: string, v: string) => void values.set(k, v),
    removeItem: (k: string) => void values.delete(k),
  };
}

describe('the API client', () => {
  const answer = (status: number, body: unknown) => async () =>
    new Response(body === undefined ? null : JSON.stringify(body), { status });

  it("turns the server's error into an ApiError with code, message and field", async () => {
    const refused = request(
      'POST',
      '/api/x',
      {},
      { fetcher: answer(409, { error: { code: 'ALREADY_ACKNOWLEDGED', message: 'already acknowledged by Anna' } }) },
    );
    await expect(refused).rejects.toMatchObject({
      status: 409,
      code: 'ALREADY_ACKNOWLEDGED',
      message: 'already acknowledged by Anna',
    });
    expect(errorOf(400, { error: { code: 'VALIDATION_FAILED', message: 'm', field: 'low' } }).field).toBe('low');
    expect(errorOf(502, 'gateway')).toMatchObject({ code: 'HTTP_502', message: 'HTTP 502' });
  });

  it('answers bodies, nothing for 204, and NETWORK when no answer came', async () => {
    expect(await request('GET', '/api/x', undefined, { fetcher: answer(200, { ok: 1 }) })).toEqual({ ok: 1 });
    expect(await request('DELETE', '/api/x', undefined, { fetcher: answer(204, undefined) })).toBeUndefined();
    const offline = request('GET', '/api/x', undefined, {
      fetcher: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    await expect(offline).rejects.toBeInstanceOf(ApiError);
    await expect(offline).rejects.toMatchObject({ status: 0, code: 'NETWORK' });
    expect(query({ teamId: 'a b', state: undefined, limit: 5 })).toBe('?teamId=a+b&limit=5');
    expect(query({})).toBe('');
  });
});

describe('connection state', () => {
  const facts = { connected: false, everConnected: true, online: true, downSince: 0, now: 1000 };
  it('is live, reconnecting for a while, then offline; offline at once without a network', () => {
    expect(connectionState({ ...facts, connected: true })).toBe('connected');
    expect(connectionState({ ...facts, everConnected: false })).toBe('connecting');
    expect(connectionState(facts)).toBe('reconnecting');
    expect(connectionState({ ...facts, now: OFFLINE_AFTER_MS })).toBe('offline');
    expect(connectionState({ ...facts, online: false })).toBe('offline');
  });
});

describe('remembered choices', () => {
  it('fall back to mmol/L, sound off and the first team', () => {
    expect(readUnit(memory())).toBe('mmol');
    expect(readUnit(memory({ [PREFERENCE_KEYS.unit]: 'mgdl' }))).toBe('mgdl');
    expect(readUnit(memory({ [PREFERENCE_KEYS.unit]: 'bananas' }))).toBe('mmol');
    expect(readSound(memory())).toBe(false);
    const storage = memory();
    write(storage, PREFERENCE_KEYS.sound, 'on');
    expect(readSound(storage)).toBe(true);
    write(storage, PREFERENCE_KEYS.team, 'b');
    expect(readTeam(storage)).toBe('b');
    const teams = [{ id: 'a' }, { id: 'b' }];
    expect(pickTeam(teams, 'b')).toEqual({ id: 'b' });
    expect(pickTeam(teams, 'gone')).toEqual({ id: 'a' });
    expect(pickTeam([], 'a')).toBeNull();
  });
});

describe('colours', () => {
  it('keep every range value legible on its colour (WCAG AA)', () => {
    for (const [range, swatch] of Object.entries(RANGE_COLOURS))
      expect(contrast(swatch.fill, swatch.text), range).toBeGreaterThanOrEqual(4.5);
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
  });
});

describe('formatting', () => {
  it('says how long ago in the largest whole unit', () => {
    expect(elapsed(0, 25_000)).toEqual({ value: 20, unit: 'second' });
    expect(elapsed(0, 5 * 60_000 + 1)).toEqual({ value: 5, unit: 'minute' });
    expect(elapsed(0, 3 * 3_600_000)).toEqual({ value: 3, unit: 'hour' });
    expect(elapsed(0, 3 * 86_400_000)).toEqual({ value: 3, unit: 'day' });
    expect(elapsed(1000, 0)).toEqual({ value: 0, unit: 'second' });
  });

  it('gives shares one decimal under 10 %', () => {
    expect(formatPercent(0.5, 'en-GB')).toBe('0.5 %');
    expect(formatPercent(72.4, 'sv-SE')).toBe('72 %');
    expect(formatPercent(null, 'sv-SE')).toBe('–');
  });

  it('turns local date-time input into an instant and back', () => {
    const date = new Date(2025, 2, 1, 8, 30);
    expect(fromLocalInput(toLocalInput(date))).toBe(date.toISOString());
    expect(fromLocalInput('yesterday')).toBeNull();
  });
});

describe('chart helpers', () => {
  it('stretch the value axis to the values within the meter range', () => {
    expect(glucoseDomain([])).toEqual([2, 15]);
    expect(glucoseDomain([1.2, 22.5, null])).toEqual([1, 24]);
  });

  it('break lines at gaps and find the nearest point', () => {
    expect(segments([0, 1, 2, 10, 11], (t) => t, 5)).toEqual([
      [0, 1, 2],
      [10, 11],
    ]);
    expect(nearestIndex([0, 10, 20], 14)).toBe(1);
    expect(nearestIndex([0, 10, 20], 16)).toBe(2);
    expect(nearestIndex([], 1)).toBe(-1);
  });

  it('keep the extremes when thinning to two points per pixel', () => {
    const points = Array.from({ length: 1000 }, (_, i) => ({ x: i / 100, v: i === 537 ? 2 : 6 + (i % 3) }));
    const kept = decimate(
      points,
      (p) => p.x,
      (p) => p.v,
      10,
    );
    expect(kept.length).toBeLessThanOrEqual(20);
    expect(kept.some((p) => p.v === 2)).toBe(true);
  });

  it('tick the value axis at round numbers of the unit', () => {
    expect(valueTicks([2, 15], null)).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(valueTicks([2, 15], MGDL_PER_MMOL).map((t) => Math.round(t * MGDL_PER_MMOL))).toEqual([
      50, 100, 150, 200, 250,
    ]);
  });
});

describe('the way back after signing in', () => {
  it('stays inside the app', () => {
    expect(safeNext('/patients/1?x=1')).toBe('/patients/1?x=1');
    for (const bad of [null, '', 'https://evil.example', '//evil.example', '/\\evil', '/login?next=/x'])
      expect(safeNext(bad), String(bad)).toBe('/board');
  });
});
