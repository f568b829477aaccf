import { describe, expect, it } from 'vitest';
import { formatGlucose, inUnit, parseGlucose, rangeOf, toUnit } from '../src/lib/glucose';
import { MGDL_PER_MMOL } from '../src/lib/domain';

describe('glucose values for display', () => {
  it('colours by the five consensus ranges, LO and HI by their flag', () => {
    expect([2.9, 3.0, 3.8, 3.9, 10.0, 10.1, 13.9, 14.0].map((mmol) => rangeOf({ mmol }))).toEqual([
      'veryLow',
      'low',
      'low',
      'inRange',
      'inRange',
      'high',
      'high',
      'veryHigh',
    ]);
    expect(rangeOf({ mmol: null, flag: 'LO' })).toBe('veryLow');
    expect(rangeOf({ mmol: 5, flag: 'HI' })).toBe('veryHigh');
    expect(rangeOf({ mmol: null })).toBeNull();
    expect(rangeOf(null)).toBeNull();
  });

  it('shows mmol/L with one decimal in the locale, mg/dL whole, and the flag as the meter does', () => {
    expect(formatGlucose({ mmol: 6.54 }, 'mmol', 'sv-SE')).toBe('6,5');
    expect(formatGlucose({ mmol: 6.5 }, 'mmol', 'en-GB')).toBe('6.5');
    expect(formatGlucose({ mmol: 10 }, 'mgdl', 'en-GB')).toBe('180');
    expect(formatGlucose({ mmol: null, flag: 'LO' }, 'mgdl', 'sv-SE')).toBe('LO');
    expect(inUnit(5.55, 'mgdl')).toBe(Math.round(5.55 * MGDL_PER_MMOL));
    expect(toUnit(0.1, 'mgdl')).toBeCloseTo(1.80156, 10);
  });

  it('reads typed values in either unit as mmol/L with one decimal', () => {
    expect(parseGlucose('6,5', 'mmol')).toBe(6.5);
    expect(parseGlucose(' 12.34 ', 'mmol')).toBe(12.3);
    expect(parseGlucose('117', 'mgdl')).toBe(6.5);
    for (const bad of ['', 'abc', '-1', '0', '6,5,1', '1e3']) expect(parseGlucose(bad, 'mmol'), bad).toBeNull();
  });
});
