import fc from 'fast-check';
import { v5 as uuidv5 } from 'uuid';
import { describe, expect, it } from 'vitest';
import {
  nightscoutIdentifier,
  nightscoutSeq,
  normalizeDeviceStatus,
  normalizeEntry,
  normalizeTreatment,
  parseDateString,
  prepareV3Document,
  uploaderBattery,
  uuidV5,
  V3_MESSAGES,
  type NormalizedEntry,
} from '../../src/wire/nightscout.ts';

/** As Nightscout passes it: the bytes of "NightscoutRocks!". */
const NAMESPACE = new Uint8Array(Buffer.from('NightscoutRocks!', 'ascii'));
const instants = fc.integer({ min: 946_684_800_001, max: 4_102_444_800_000 }); // 2000-2100
const offsets = fc.integer({ min: -14 * 60, max: 14 * 60 });

/** An instant written as ISO 8601 local time with its offset, `+01:00` or `+0100`. */
function isoWithOffset(ms: number, offset: number, colon: boolean): string {
  const local = new Date(ms + offset * 60_000).toISOString().slice(0, 23);
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${offset < 0 ? '-' : '+'}${hh}${colon ? ':' : ''}${mm}`;
}

const entry = (raw: unknown) => normalizeEntry(raw) as NormalizedEntry;

describe('Nightscout identifiers', () => {
  it('are RFC 4122 UUIDv5 exactly as the uuid package (Nightscout uses it) computes them', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (name) => {
        expect(uuidV5(name)).toBe(uuidv5(name, NAMESPACE));
      }),
    );
  });

  it('name device_date, plus _eventType for treatments, with "undefined" for a missing device', () => {
    expect(nightscoutIdentifier({ device: 'xDrip', date: 1_600_000_000_000 })).toBe(
      uuidv5('xDrip_1600000000000', NAMESPACE),
    );
    expect(nightscoutIdentifier({ date: 1_600_000_000_000, eventType: 'Meal Bolus' })).toBe(
      uuidv5('undefined_1600000000000_Meal Bolus', NAMESPACE),
    );
  });
});

describe('Nightscout dateString', () => {
  it('reads any instant with its offset, with or without the colon, as moment.parseZone does', () => {
    fc.assert(
      fc.property(instants, offsets, fc.boolean(), (ms, offset, colon) => {
        expect(parseDateString(isoWithOffset(ms, offset, colon))).toEqual({ ms, utcOffset: offset });
      }),
    );
  });

  it('takes Z and offset-less times as UTC and refuses impossible dates', () => {
    expect(parseDateString('2025-03-01T08:00:00.000Z')).toEqual({ ms: Date.UTC(2025, 2, 1, 8), utcOffset: 0 });
    expect(parseDateString('2025-03-01T08:00:00')).toEqual({ ms: Date.UTC(2025, 2, 1, 8), utcOffset: 0 });
    expect(parseDateString('2026-02-30T08:00:00Z')).toBeNull();
    expect(parseDateString('2025-03-01T08:00:00+2500')).toBeNull();
    expect(parseDateString('not a date')).toBeNull();
  });
});

describe('Nightscout entries', () => {
  it('convert sgv and mbg (mg/dL, floats allowed) to mmol/L with the factor 18.0156', () => {
    fc.assert(
      fc.property(fc.double({ min: 39, max: 600, noNaN: true }), instants, (sgv, date) => {
        const normalized = entry({ type: 'sgv', sgv, date });
        expect(normalized.reading).toEqual({
          seq: date * 4 + 1,
          measuredAt: new Date(date),
          mmol: sgv / 18.0156,
          kind: 'cgm',
        });
      }),
    );
    expect(entry({ type: 'mbg', mbg: 90, date: 1_700_000_000_000 }).reading?.kind).toBe('bgm');
  });

  it('never make a reading of a sensor error code (sgv below 39) or of a calibration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 38 }), instants, (sgv, date) => {
        const normalized = entry({ type: 'sgv', sgv, date });
        expect(normalized.reading).toBeNull();
        expect(normalized.doc['sgv']).toBe(sgv);
      }),
    );
    expect(entry({ type: 'cal', slope: 1, intercept: 0, date: 1_700_000_000_000 }).reading).toBeNull();
  });

  it('get one seq per (type, instant): equal exactly when both are equal', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('sgv' as const, 'mbg' as const),
        instants,
        fc.constantFrom('sgv' as const, 'mbg' as const),
        instants,
        (typeA, a, typeB, b) => {
          expect(nightscoutSeq(typeA, a) === nightscoutSeq(typeB, b)).toBe(typeA === typeB && a === b);
          expect(Number.isSafeInteger(nightscoutSeq(typeA, a))).toBe(true);
        },
      ),
    );
  });

  it('take their time from dateString over date, truncate fractional ms, and keep the offset', () => {
    const loop = entry({ type: 'sgv', sgv: 101.5, date: 1_700_000_000_123.5 });
    expect(loop.instantMs).toBe(1_700_000_000_123);
    expect(loop.doc['date']).toBe(1_700_000_000_123.5);
    expect(loop.dedupeKey).toBe('sgv|1700000000123');
    const xdrip = entry({ type: 'sgv', sgv: 100, date: 1, dateString: '2023-03-08T18:02:04.000+0100' });
    expect(xdrip.instantMs).toBe(Date.UTC(2023, 2, 8, 17, 2, 4));
    expect(xdrip.doc).toMatchObject({ utcOffset: 60, sysTime: '2023-03-08T17:02:04.000Z' });
    expect(xdrip.doc['dateString']).toBe('2023-03-08T17:02:04.000Z');
  });

  it('refuse what is not an entry with a message that names the rule, never the value', () => {
    const refusals = [
      normalizeEntry('sgv 100'),
      normalizeEntry({ type: 'sgv', sgv: 100 }),
      normalizeEntry({ type: 'sgv', sgv: 'high', date: 1_700_000_000_000 }),
      normalizeEntry({ type: 'sgv', sgv: 100, date: 1_700_000_000_000, direction: 'Sideways' }),
      normalizeEntry({ type: 7, sgv: 100, date: 1_700_000_000_000 }),
    ];
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ ok: false, status: 400, message: expect.any(String) });
      expect((refusal as { message: string }).message).not.toContain('Sideways');
    }
    // Loop's spellings are directions too, and the secret is never kept.
    const loop = entry({ sgv: 100, date: 1_700_000_000_000, direction: 'NotComputable', secret: 'x' });
    expect(loop.type).toBe('sgv');
    expect(loop.doc).not.toHaveProperty('secret');
  });
});

describe('Nightscout treatments and device status', () => {
  it('deduplicate on created_at + eventType, or on the client identifier', () => {
    const a = normalizeTreatment(
      { eventType: 'Carb Correction', carbs: '20', created_at: '2025-03-01T08:00:00+01:00' },
      0,
    );
    expect(a).toMatchObject({
      instantMs: Date.UTC(2025, 2, 1, 7),
      dedupeKey: `Carb Correction|${Date.UTC(2025, 2, 1, 7)}`,
      doc: { carbs: 20, created_at: '2025-03-01T07:00:00.000Z', utcOffset: 60 },
    });
    expect(normalizeTreatment({ _id: 'a1b2c3', eventType: 'Note' }, 5)).toMatchObject({
      identifier: 'a1b2c3',
      instantMs: 5,
    });
    expect(normalizeTreatment({ carbs: 'lots' }, 0)).toMatchObject({ ok: false, status: 400 });
    expect(normalizeDeviceStatus({ device: 'xDrip', created_at: 'yesterday-ish' }, 0)).toMatchObject({ ok: false });
  });

  it("read the uploader's battery from xDrip+ and Loop shapes", () => {
    expect(uploaderBattery({ uploader: { battery: 64 } })).toBe(64);
    expect(uploaderBattery({ uploaderBattery: '80' })).toBe(80);
    expect(uploaderBattery({ uploader: { battery: 180 } })).toBeNull();
    expect(uploaderBattery({ pump: { battery: { percent: 50 } } })).toBeNull();
  });
});

describe('Nightscout API v3 create validation', () => {
  it("answers Nightscout's messages byte for byte, in its order", () => {
    expect(prepareV3Document({}, 'entries')).toEqual({ ok: false, message: 'Bad or missing request body' });
    expect(prepareV3Document({ app: 'AAPS', utcOffset: 0 }, 'entries')).toEqual({
      ok: false,
      message: 'Bad or missing date field',
    });
    expect(prepareV3Document({ app: 'AAPS', date: 1_700_000_000_000, utcOffset: 1441 }, 'entries')).toEqual({
      ok: false,
      message: 'Bad or missing utcOffset field',
    });
    expect(prepareV3Document({ date: 1_700_000_000_000, utcOffset: 60 }, 'entries')).toEqual({
      ok: false,
      message: 'Bad or missing app field',
    });
    expect(V3_MESSAGES.badUtcOffset).toBe('Bad or missing utcOffset field');
  });

  it('accepts every date after 2000 with an offset within a day, and derives the identifier', () => {
    fc.assert(
      fc.property(instants, fc.integer({ min: -1440, max: 1440 }), (date, utcOffset) => {
        const prepared = prepareV3Document({ app: 'AAPS', device: 'phone', date, utcOffset, type: 'sgv' }, 'entries');
        expect(prepared).toMatchObject({ ok: true, identifier: uuidv5(`phone_${date}`, NAMESPACE) });
      }),
    );
    // Seconds are read as seconds, and utcOffset comes from an ISO created_at when absent.
    expect(prepareV3Document({ app: 'x', date: 1_700_000_000 }, 'treatments')).toMatchObject({
      ok: true,
      doc: { date: 1_700_000_000_000, utcOffset: 0 },
    });
    expect(prepareV3Document({ app: 'x', created_at: '2025-03-01T08:00:00+0200' }, 'treatments')).toMatchObject({
      ok: true,
      doc: { date: Date.UTC(2025, 2, 1, 6), utcOffset: 120 },
    });
  });
});
