import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  asDataView,
  encodeGlucoseMeasurement,
  encodeGlucoseMeasurementContext,
} from '@glucoboard/core/test-support/glucose-meter';
import { translate } from '../src/lib/i18n/translate';
import { meterIdentity } from '../src/lib/meter/bluetooth';
import { credentialFromFragment, deviceAuthorization, pairingLink } from '../src/lib/meter/credential';
import { linkDecoder, mergeRecord, readingsOf, recordsRequest, type RawRecord } from '../src/lib/meter/records';
import { storedRecord } from './browser/bluetooth-meter';

// From the records a meter notifies to what the meter page sends (issue 14), over core's decoder.

const raw = (record: ReturnType<typeof storedRecord>): RawRecord => ({
  seq: record.measurement.sequence,
  measurement: asDataView(encodeGlucoseMeasurement({ ...record.measurement, contextFollows: !!record.context })),
  ...(record.context
    ? {
        context: asDataView(
          encodeGlucoseMeasurementContext({ ...record.context, sequence: record.measurement.sequence }),
        ),
      }
    : {}),
});

describe('the meter page records', () => {
  it('asks for all records the first time, after the high-water mark next, from the last received on resume', () => {
    expect([...recordsRequest(null, null)]).toEqual([0x01, 0x01]);
    expect([...recordsRequest(41, null)]).toEqual([0x01, 0x03, 0x01, 42, 0]);
    expect([...recordsRequest(300, null)]).toEqual([0x01, 0x03, 0x01, 0x2d, 0x01]);
    expect([...recordsRequest(41, 57)]).toEqual([0x01, 0x03, 0x01, 57, 0]);
    expect([...recordsRequest(0xffff, null)]).toEqual([0x01, 0x01]);
  });

  it('turns records into device readings: both units, control solution, LO/HI, meal; faults are unreadable', () => {
    const records = [
      storedRecord(3, 60, { mmol: 5.5, control: true }),
      storedRecord(1, 120, { mmol: 6.2 }),
      storedRecord(2, 90, { mmol: 9.8, unit: 'kg/L', meal: 'preprandial' }),
      storedRecord(4, 30, { lo: true }),
      storedRecord(5, 20, { hi: true }),
    ].map(raw);
    const fault = storedRecord(6, 10, { mmol: 7 });
    fault.measurement.sensorStatus = { stripInsertionError: true };
    const { readings, unreadable } = readingsOf([...records, raw(fault)], 'Europe/Stockholm');
    expect(readings.map(({ seq, mmol, flag, kind, meal }) => ({ seq, mmol, flag, kind, meal }))).toEqual([
      { seq: 1, mmol: 6.2, flag: null, kind: 'bgm', meal: null },
      { seq: 2, mmol: 9.8, flag: null, kind: 'bgm', meal: 'before' },
      { seq: 3, mmol: 5.5, flag: null, kind: 'control', meal: null },
      { seq: 4, mmol: 0.6, flag: 'LO', kind: 'bgm', meal: null },
      { seq: 5, mmol: 33.3, flag: 'HI', kind: 'bgm', meal: null },
    ]);
    expect(readings[0]!.measuredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$/);
    expect(unreadable).toEqual([{ seq: 6, reason: 'sensor-fault' }]);
    expect(translate('sv', `meter.unreadable.${unreadable[0]!.reason}`)).toContain('felaktig');
    const broken = readingsOf([{ seq: 9, measurement: new DataView(new ArrayBuffer(2)) }], 'Europe/Stockholm');
    expect(broken.unreadable).toEqual([{ seq: 9, reason: 'undecodable' }]);
  });

  it('numbers notifications and reads the control point answer', () => {
    const record = raw(storedRecord(12, 5, { mmol: 6, meal: 'postprandial' }));
    expect(linkDecoder.sequenceOfMeasurement(record.measurement)).toEqual({ sequence: 12, contextFollows: true });
    expect(linkDecoder.sequenceOfContext(record.context!)).toBe(12);
    expect(linkDecoder.racpAnswer(asDataView(Uint8Array.of(0x06, 0, 0x01, 0x01)))).toEqual({ ok: true });
    expect(linkDecoder.racpAnswer(asDataView(Uint8Array.of(0x06, 0, 0x01, 0x06)))).toEqual({
      ok: true,
      noRecords: true,
    });
    expect(linkDecoder.racpAnswer(asDataView(Uint8Array.of(0x06, 0, 0x01, 0x04)))).toEqual({ ok: false, code: 4 });
    // An answer to another request (abort) or no answer at all does not end a transfer.
    expect(linkDecoder.racpAnswer(asDataView(Uint8Array.of(0x06, 0, 0x03, 0x01)))).toBeNull();
    expect(linkDecoder.racpAnswer(asDataView(Uint8Array.of(0x05, 0, 3, 0)))).toBeNull();
  });

  it('keeps a record with its context over a repeat without it (a resume re-reads the last one)', () => {
    const records = new Map<number, RawRecord>();
    const full = raw(storedRecord(3, 5, { mmol: 6, meal: 'preprandial' }));
    mergeRecord(records, full);
    mergeRecord(records, { seq: 3, measurement: full.measurement });
    expect(records.get(3)).toBe(full);
    const bare = { seq: 4, measurement: full.measurement };
    mergeRecord(records, bare);
    mergeRecord(records, { ...full, seq: 4 });
    expect(records.get(4)!.context).toBeDefined();
  });

  it('names the meter by its serial where readable, else its System ID, else its advertised name', () => {
    expect(meterIdentity({ serialNumber: ' 7830H123\0', systemId: null, name: 'Contour' })).toBe('7830H123');
    expect(
      meterIdentity({ serialNumber: null, systemId: Uint8Array.of(0, 0x1b, 0xdc, 0xff, 0xfe, 1, 2, 3), name: 'x' }),
    ).toBe('SID-001BDCFFFE010203');
    expect(meterIdentity({ serialNumber: null, systemId: new Uint8Array(8), name: 'meter+06543210' })).toBe(
      'meter-06543210',
    );
    expect(meterIdentity({ serialNumber: '', systemId: null, name: '  ' })).toBeNull();
    fc.assert(
      fc.property(fc.string(), fc.string(), (serial, name) => {
        const id = meterIdentity({ serialNumber: serial, systemId: null, name });
        expect(id === null || /^[A-Za-z0-9._:-]{1,64}$/.test(id)).toBe(true);
      }),
    );
  });

  it("carries the phone's credential in the link's fragment, never its query, and reads it back", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
        fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/),
        (deviceId, token) => {
          const link = new URL(pairingLink('https://glucoboard.example.se', { deviceId, token }));
          expect(link.pathname).toBe('/meter/pair');
          expect(link.search).toBe('');
          expect(credentialFromFragment(link.hash)).toEqual({ deviceId, token });
        },
      ),
    );
    expect(credentialFromFragment('#device=A1&token=has:colon')).toBeNull();
    expect(credentialFromFragment('')).toBeNull();
    expect(deviceAuthorization({ deviceId: 'A1', token: 't0k' })).toBe('Device A1:t0k');
  });
});
