import { describe, expect, it } from 'vitest';
import { elapsed, formatPercent, fromLocalInput, toLocalInput } from '../src/lib/i18n/format';

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
