import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCurrentTime,
  decodeGlucoseFeature,
  decodeGlucoseMeasurement,
  decodeGlucoseMeasurementContext,
  decodeRacpResponse,
  encodeRacpCommand,
  GlucoseDecodeError,
  GlucoseRecordCollector,
  RACP_RESPONSE_CODES,
  type RacpResponse,
} from '../../src/bluetooth/index.ts';
import { asDataView, EmulatedGlucoseMeter, type RacpExchange, type StoredRecord } from '../support/glucose-meter.ts';

const bytes = (...values: number[]) => Uint8Array.from(values);
const decode = (indication: Uint8Array | null): RacpResponse => decodeRacpResponse(asDataView(indication!));

describe('encodeRacpCommand', () => {
  it('writes the requests a collector sends, as the specification lays them out', () => {
    expect(encodeRacpCommand({ op: 'report-stored-records', operator: 'all' })).toEqual(bytes(0x01, 0x01));
    expect(encodeRacpCommand({ op: 'report-stored-records', operator: 'greater-or-equal', sequence: 0x1234 })).toEqual(
      bytes(0x01, 0x03, 0x01, 0x34, 0x12),
    );
    expect(encodeRacpCommand({ op: 'report-number-of-stored-records', operator: 'all' })).toEqual(bytes(0x04, 0x01));
    expect(
      encodeRacpCommand({ op: 'report-number-of-stored-records', operator: 'greater-or-equal', sequence: 7 }),
    ).toEqual(bytes(0x04, 0x03, 0x01, 0x07, 0x00));
    expect(encodeRacpCommand({ op: 'report-stored-records', operator: 'first' })).toEqual(bytes(0x01, 0x05));
    expect(encodeRacpCommand({ op: 'report-stored-records', operator: 'last' })).toEqual(bytes(0x01, 0x06));
    expect(encodeRacpCommand({ op: 'abort' })).toEqual(bytes(0x03, 0x00));
  });

  it('refuses a sequence number that is no uint16', () => {
    for (const sequence of [-1, 65536, 1.5]) {
      expect(() => encodeRacpCommand({ op: 'report-stored-records', operator: 'greater-or-equal', sequence })).toThrow(
        RangeError,
      );
    }
  });
});

describe('decodeRacpResponse', () => {
  it('reads every response code and the number of records', () => {
    for (const [value, name] of Object.entries(RACP_RESPONSE_CODES)) {
      expect(decodeRacpResponse(asDataView(bytes(0x06, 0x00, 0x01, Number(value))))).toEqual({
        kind: 'response-code',
        requestOpCode: 1,
        requestOp: 'report-stored-records',
        responseCode: name,
      });
    }
    expect(Object.values(RACP_RESPONSE_CODES)).toEqual([
      'success',
      'op code not supported',
      'invalid operator',
      'operator not supported',
      'invalid operand',
      'no records found',
      'abort unsuccessful',
      'procedure not completed',
      'operand not supported',
    ]);
    expect(decodeRacpResponse(asDataView(bytes(0x05, 0x00, 0x2c, 0x01)))).toEqual({
      kind: 'number-of-records',
      count: 300,
    });
    expect(decodeRacpResponse(asDataView(bytes(0x06, 0x00, 0x03, 0x01)))).toMatchObject({ requestOp: 'abort' });
    expect(decodeRacpResponse(asDataView(bytes(0x06, 0x00, 0x42, 0x02)))).toMatchObject({
      requestOp: null,
      requestOpCode: 0x42,
    });
  });

  it('throws a GlucoseDecodeError with a code for anything else, never a guess', () => {
    const cases: Array<[Uint8Array, string]> = [
      [bytes(0x01, 0x01), 'UNEXPECTED_OP_CODE'],
      [bytes(0x06, 0x01, 0x01, 0x01), 'MALFORMED'],
      [bytes(0x06, 0x00, 0x01, 0x00), 'RESERVED_VALUE'],
      [bytes(0x06, 0x00, 0x01, 0x0a), 'RESERVED_VALUE'],
      [bytes(0x06, 0x00, 0x01), 'TRUNCATED'],
      [bytes(0x05, 0x00, 0x01), 'TRUNCATED'],
      [bytes(), 'TRUNCATED'],
    ];
    for (const [value, code] of cases) {
      expect(() => decodeRacpResponse(asDataView(value))).toThrow(GlucoseDecodeError);
      try {
        decodeRacpResponse(asDataView(value));
      } catch (error) {
        expect((error as GlucoseDecodeError).code).toBe(code);
      }
    }
  });

  it('never throws anything but a GlucoseDecodeError, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (value) => {
        try {
          decodeRacpResponse(asDataView(value));
        } catch (error) {
          expect(error).toBeInstanceOf(GlucoseDecodeError);
        }
      }),
    );
  });
});

// --- The emulated meter -------------------------------------------------------------------------

const at = (day: number, hours: number) => ({ year: 2026, month: 11, day, hours, minutes: 15, seconds: 0 });

/** Five records, sequence 10-14; 11 and 13 have a context. */
function meter(): EmulatedGlucoseMeter {
  const records: StoredRecord[] = [10, 11, 12, 13, 14].map((sequence, i) => ({
    measurement: { sequence, baseTime: at(20 + i, 8), concentration: { value: (5 + i) * 1e-3, unit: 'mol/L' } },
    ...(sequence % 2 === 1 ? { context: { meal: 'preprandial' as const } } : {}),
  }));
  return new EmulatedGlucoseMeter({
    serialNumber: 'GB-0042',
    records: records.reverse(), // kept in sequence order whatever the order given
    clock: { dateTime: { year: 2026, month: 12, day: 3, hours: 10, minutes: 0, seconds: 0 } },
  });
}

/** The sequence numbers of the measurements (and 'c<seq>' for the contexts) an exchange notified. */
function notified(exchange: RacpExchange): string[] {
  return exchange.notifications.map((value, i) =>
    exchange.notifiedOn[i] === 'measurement'
      ? String(decodeGlucoseMeasurement(asDataView(value)).sequence)
      : `c${decodeGlucoseMeasurementContext(asDataView(value)).sequence}`,
  );
}

const report = (operator: 'all' | 'first' | 'last') => encodeRacpCommand({ op: 'report-stored-records', operator });
const reportFrom = (sequence: number) =>
  encodeRacpCommand({ op: 'report-stored-records', operator: 'greater-or-equal', sequence });
const countFrom = (sequence: number) =>
  encodeRacpCommand({ op: 'report-number-of-stored-records', operator: 'greater-or-equal', sequence });

describe('EmulatedGlucoseMeter', () => {
  it('reports all records in sequence order, each context right after its measurement, then success', () => {
    const exchange = meter().handleRacpWrite(report('all'));
    expect(notified(exchange)).toEqual(['10', '11', 'c11', '12', '13', 'c13', '14']);
    expect(decode(exchange.indication)).toEqual({
      kind: 'response-code',
      requestOpCode: 1,
      requestOp: 'report-stored-records',
      responseCode: 'success',
    });
    const flags = exchange.notifications
      .filter((_, i) => exchange.notifiedOn[i] === 'measurement')
      .map((value) => decodeGlucoseMeasurement(asDataView(value)).contextFollows);
    expect(flags).toEqual([false, true, false, true, false]);
  });

  it('reports the records from a sequence number, the first and the last', () => {
    const m = meter();
    expect(notified(m.handleRacpWrite(reportFrom(12)))).toEqual(['12', '13', 'c13', '14']);
    expect(notified(m.handleRacpWrite(report('first')))).toEqual(['10']);
    expect(notified(m.handleRacpWrite(report('last')))).toEqual(['14']);
    expect(notified(m.handleRacpWrite(bytes(0x01, 0x02, 0x01, 11, 0)))).toEqual(['10', '11', 'c11']); // <= 11
    expect(notified(m.handleRacpWrite(bytes(0x01, 0x04, 0x01, 11, 0, 12, 0)))).toEqual(['11', 'c11', '12']); // 11-12
  });

  it('answers no records found when nothing matches, and counts records', () => {
    const m = meter();
    const none = m.handleRacpWrite(reportFrom(15));
    expect(none.notifications).toEqual([]);
    expect(decode(none.indication)).toMatchObject({ requestOpCode: 1, responseCode: 'no records found' });
    expect(
      decode(
        m.handleRacpWrite(encodeRacpCommand({ op: 'report-number-of-stored-records', operator: 'all' })).indication,
      ),
    ).toEqual({
      kind: 'number-of-records',
      count: 5,
    });
    expect(decode(m.handleRacpWrite(countFrom(13)).indication)).toEqual({ kind: 'number-of-records', count: 2 });
    expect(decode(m.handleRacpWrite(countFrom(99)).indication)).toEqual({ kind: 'number-of-records', count: 0 });

    const empty = new EmulatedGlucoseMeter({ serialNumber: 'GB-0000' });
    expect(decode(empty.handleRacpWrite(report('all')).indication)).toMatchObject({ responseCode: 'no records found' });
    expect(decode(empty.handleRacpWrite(report('last')).indication)).toMatchObject({
      responseCode: 'no records found',
    });
  });

  it('refuses malformed requests with the response code a real meter gives', () => {
    const m = meter();
    const cases: Array<[Uint8Array, string]> = [
      [bytes(0x01, 0x00), 'invalid operator'], // report with the null operator
      [bytes(0x01), 'invalid operator'], // no operator at all
      [bytes(0x01, 0x07), 'operator not supported'],
      [bytes(0x01, 0x01, 0x01), 'invalid operand'], // all takes no operand
      [bytes(0x01, 0x03, 0x01, 0x0c), 'invalid operand'], // sequence number one byte short
      [bytes(0x01, 0x03), 'invalid operand'], // no filter type
      [bytes(0x01, 0x03, 0x02, 0xea, 0x07, 1, 1, 0, 0, 0), 'operand not supported'], // user facing time
      [bytes(0x01, 0x03, 0x09, 0x0c, 0x00), 'operand not supported'],
      [bytes(0x01, 0x04, 0x01, 12, 0, 11, 0), 'invalid operand'], // range backwards
      [bytes(0x02, 0x01), 'op code not supported'], // delete: a patient's meter is read only here
      [bytes(0x05, 0x00), 'op code not supported'],
      [bytes(0x09, 0x01), 'op code not supported'],
      [bytes(0x03, 0x01), 'invalid operator'], // abort takes the null operator
      [bytes(0x03, 0x00, 0x01), 'invalid operand'],
      [bytes(0x03, 0x00), 'success'],
    ];
    for (const [request, responseCode] of cases) {
      const exchange = m.handleRacpWrite(request);
      expect(exchange.notifications, String(request)).toEqual([]);
      expect(decode(exchange.indication), String(request)).toMatchObject({
        kind: 'response-code',
        requestOpCode: request[0],
        responseCode,
      });
    }
    expect(decode(m.handleRacpWrite(bytes()).indication)).toMatchObject({
      requestOpCode: 0,
      responseCode: 'op code not supported',
    });
  });

  it('loses the connection after N records once, and a resume from the next sequence number gets the rest', () => {
    const m = meter();
    m.loseConnectionAfter(2);
    const cut = m.handleRacpWrite(report('all'));
    expect(cut).toMatchObject({ indication: null, connectionLost: true });
    expect(notified(cut)).toEqual(['10', '11', 'c11']);

    // What the page does: resume from the last sequence number it got, plus one.
    const rest = m.handleRacpWrite(reportFrom(11 + 1));
    expect(notified(rest)).toEqual(['12', '13', 'c13', '14']);
    expect(decode(rest.indication)).toMatchObject({ responseCode: 'success' });

    m.loseConnectionAfter(0);
    expect(m.handleRacpWrite(report('all'))).toMatchObject({
      notifications: [],
      indication: null,
      connectionLost: true,
    });
    m.loseConnectionAfter(5); // not fewer than the records: the transfer completes
    expect(m.handleRacpWrite(report('all'))).toMatchObject({ connectionLost: false });
  });

  it('holds a serial number, its features and a clock', () => {
    const m = meter();
    expect(new TextDecoder().decode(m.serialNumberBytes())).toBe('GB-0042');
    expect(decodeGlucoseFeature(asDataView(m.featureBytes()))).toMatchObject({ multipleBond: true, timeFault: true });
    expect(m.hasCurrentTimeService()).toBe(true);
    expect(decodeCurrentTime(asDataView(m.currentTimeBytes()))).toMatchObject({
      dateTime: { year: 2026, month: 12, day: 3, hours: 10 },
      dayOfWeek: 'Thursday',
    });
    const noClock = new EmulatedGlucoseMeter({ serialNumber: 'X', features: 0 });
    expect(noClock.hasCurrentTimeService()).toBe(false);
    expect(() => noClock.currentTimeBytes()).toThrow();
    expect(decodeGlucoseFeature(asDataView(noClock.featureBytes())).multipleBond).toBe(false);
    m.addRecord({ measurement: { sequence: 15, baseTime: at(30, 9), concentration: { value: 0.006, unit: 'mol/L' } } });
    expect(decode(m.handleRacpWrite(countFrom(15)).indication)).toEqual({ kind: 'number-of-records', count: 1 });
  });
});

describe('GlucoseRecordCollector', () => {
  /** Feeds an exchange's notifications to a collector, as the page's characteristic listeners do. */
  function feed(collector: GlucoseRecordCollector, exchange: RacpExchange): void {
    exchange.notifications.forEach((value, i) => {
      if (exchange.notifiedOn[i] === 'measurement') collector.addMeasurement(asDataView(value));
      else collector.addContext(asDataView(value));
    });
  }

  it('pairs each context with its measurement and resumes a cut transfer without loss or repeat', () => {
    for (let cutAfter = 0; cutAfter <= 5; cutAfter++) {
      const m = meter();
      const collector = new GlucoseRecordCollector();
      expect(collector.resumeCommand()).toEqual({ op: 'report-stored-records', operator: 'all' });
      m.loseConnectionAfter(cutAfter);
      feed(collector, m.handleRacpWrite(encodeRacpCommand(collector.resumeCommand())));
      const rest = m.handleRacpWrite(encodeRacpCommand(collector.resumeCommand()));
      feed(collector, rest);
      const records = collector.records();
      expect(records.map((r) => r.measurement.sequence)).toEqual([10, 11, 12, 13, 14]);
      expect(records.map((r) => r.context?.meal ?? null)).toEqual([null, 'preprandial', null, 'preprandial', null]);
      const outcome = decode(rest.indication);
      expect(outcome.kind === 'response-code' && outcome.responseCode).toBe(
        cutAfter >= 5 ? 'no records found' : 'success',
      );
    }
  });

  it('asks again for a last measurement whose context the cut lost', () => {
    const m = meter();
    const collector = new GlucoseRecordCollector();
    const all = m.handleRacpWrite(report('all'));
    // The link drops between measurement 11 and its context.
    feed(collector, { ...all, notifications: all.notifications.slice(0, 2), notifiedOn: all.notifiedOn.slice(0, 2) });
    expect(collector.resumeCommand()).toEqual({
      op: 'report-stored-records',
      operator: 'greater-or-equal',
      sequence: 11,
    });
    feed(collector, m.handleRacpWrite(encodeRacpCommand(collector.resumeCommand())));
    expect(collector.records().map((r) => [r.measurement.sequence, r.context?.sequence])).toEqual([
      [10, undefined],
      [11, 11],
      [12, undefined],
      [13, 13],
      [14, undefined],
    ]);
    expect(collector.size).toBe(5);
  });

  it('drops a context whose measurement never came', () => {
    const collector = new GlucoseRecordCollector();
    const exchange = meter().handleRacpWrite(report('all'));
    expect(collector.addContext(asDataView(exchange.notifications[2]!))).toBeNull();
    expect(collector.records()).toEqual([]);
  });
});
