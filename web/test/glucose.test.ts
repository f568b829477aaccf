import { describe, expect, it } from 'vitest';
import {
  boundsText,
  formatGlucose,
  glucoseInput,
  inUnit,
  parseGlucose,
  parseRate,
  rangeOf,
  rateInput,
  toUnit,
} from '../src/lib/glucose/units';
import { contrast, RANGE_COLOURS } from '../src/lib/glucose/palette';
import { rangeRows, targetBand } from '../src/lib/glucose/targets';
import { MGDL_PER_MMOL } from '@glucoboard/core/domain';

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

describe('every glucose value in the chosen unit, in and out (issue 11, item 6)', () => {
  it('fills inputs in the unit and reads them back as mmol/L with one decimal', () => {
    expect(glucoseInput(3.9, 'mgdl', 'sv-SE')).toBe('70');
    expect(glucoseInput(20, 'mgdl', 'sv-SE')).toBe('360');
    expect(glucoseInput(3.9, 'mmol', 'sv-SE')).toBe('3,9');
    // A threshold typed in mg/dL goes to the API in mmol/L (one decimal, as the API takes it)...
    expect(parseGlucose('72', 'mgdl')).toBe(4);
    expect(parseGlucose('234', 'mgdl')).toBe(13);
    // ... and every mmol/L threshold survives the way there and back.
    for (let tenths = 10; tenths <= 300; tenths++) {
      const mmol = tenths / 10;
      expect(parseGlucose(glucoseInput(mmol, 'mgdl', 'en-GB'), 'mgdl')).toBe(mmol);
    }
  });

  it('converts a rate of change per minute with two decimals of mmol/L', () => {
    expect(rateInput(0.17, 'mgdl', 'sv-SE')).toBe('3,1');
    expect(parseRate('3,1', 'mgdl')).toBe(0.17);
    expect(rateInput(0.17, 'mmol', 'en-GB')).toBe('0.17');
    expect(parseRate('x', 'mmol')).toBeNull();
  });

  it('writes range bounds in the unit', () => {
    expect(boundsText(3.9, 10, 'mmol', 'sv-SE', { upTo: true })).toBe('3,9–10,0');
    expect(boundsText(3.9, 10, 'mgdl', 'sv-SE', { upTo: true })).toBe('70–180');
    expect(boundsText(3.0, 3.9, 'mgdl', 'sv-SE')).toBe('54–69');
    expect(boundsText(10, 13.9, 'mgdl', 'sv-SE', { fromAbove: true, upTo: true })).toBe('181–250');
    expect(boundsText(null, 3.0, 'mgdl', 'sv-SE')).toBe('< 54');
    expect(boundsText(13.9, null, 'mmol', 'en-GB')).toBe('> 13.9');
  });
});

describe('the range table by target profile (issue 11, item 7)', () => {
  const ranges = { veryLow: 1, low: 3, inRange: 60, high: 30, veryHigh: 6 };

  it('draws the pregnancy band at 3.5-7.8 mmol/L with its own shares and limits', () => {
    expect(targetBand('pregnancy')).toEqual({ low: 3.5, high: 7.8 });
    const shares = { veryLow: 1, belowRange: 5, inRange: 50, aboveRange: 45, veryHigh: 6 };
    const rows = rangeRows('pregnancy', { ranges, targets: { shares } }, 'mmol', 'sv-SE');
    expect(rows.map((r) => [r.range, r.bounds, r.share, r.target])).toEqual([
      ['veryHigh', '> 13,9', 6, null],
      ['high', '7,9–13,9', 39, '< 25 %'],
      ['inRange', '3,5–7,8', 50, '> 70 %'],
      ['low', '3,0–3,4', 4, '< 4 %'],
      ['veryLow', '< 3,0', 1, '< 1 %'],
    ]);
  });

  it('keeps the consensus table for the standard profile, in mg/dL when chosen', () => {
    const rows = rangeRows('standard', { ranges }, 'mgdl', 'sv-SE');
    expect(rows.map((r) => r.bounds)).toEqual(['> 250', '181–250', '70–180', '54–69', '< 54']);
    expect(rows.map((r) => r.share)).toEqual([6, 30, 60, 3, 1]);
    // Without the server's assessment a pregnancy table shows no shares rather than wrong ones.
    expect(rangeRows('pregnancy', { ranges }, 'mmol', 'sv-SE').map((r) => r.share)).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
  });
});

describe('colours', () => {
  it('keep every range value legible on its colour (WCAG AA)', () => {
    for (const [range, swatch] of Object.entries(RANGE_COLOURS))
      expect(contrast(swatch.fill, swatch.text), range).toBeGreaterThanOrEqual(4.5);
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
  });
});
