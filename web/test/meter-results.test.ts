import { describe, expect, it } from 'vitest';
import { translate, LANGUAGES, type Language } from '../src/lib/i18n/translate';
import type { DeviceReadingOut } from '../src/lib/meter/outbox';
import {
  mealMessage,
  refusalMessage,
  resultsOfBatch,
  statusMessage,
  summarize,
  valueMessage,
  type ReadingResult,
} from '../src/lib/meter/results';

// What the meter page tells a nurse of each reading (issue 14): sent, already there, refused with
// the reason in words, control solution and LO/HI as such.

const at = '2026-12-03T08:30:00.000+01:00';
const r = (seq: number, extra: Partial<DeviceReadingOut> = {}): DeviceReadingOut => ({
  seq,
  measuredAt: at,
  mmol: 6.4,
  flag: null,
  kind: 'bgm',
  meal: null,
  ...extra,
});
const text = (
  m: { key: Parameters<typeof translate>[1]; params?: Record<string, string | number> },
  lang: Language = 'sv',
) => translate(lang, m.key, m.params);

describe('the meter page results', () => {
  it('words values: mmol/L, control solution, LO and HI, and the meal', () => {
    expect(text(valueMessage(r(1)))).toBe('6.4 mmol/L');
    expect(text(valueMessage(r(1, { kind: 'control', mmol: 5.5 })))).toBe('Kontrollösning 5.5 mmol/L');
    expect(text(valueMessage(r(1, { flag: 'LO', mmol: 0.6 })))).toBe('LO (under mätarens område)');
    expect(text(valueMessage(r(1, { flag: 'HI', mmol: 33.3 })))).toBe('HI (över mätarens område)');
    expect(text(valueMessage(r(1, { flag: 'HI', kind: 'control' })))).toBe('Kontrollösning HI');
    expect(text(mealMessage(r(1, { meal: 'after' }))!, 'en')).toBe('after a meal');
    expect(mealMessage(r(1))).toBeNull();
  });

  it('translates every refusal code the device path answers, in both languages; an unknown one keeps its code', () => {
    for (const code of [
      'OUT_OF_RANGE',
      'FUTURE_TIMESTAMP',
      'TOO_OLD',
      'INVALID_READING',
      'SEQ_CONFLICT',
      'BEFORE_ASSIGNMENT',
    ]) {
      const message = refusalMessage(code);
      expect(message.key).toBe(`meter.refused.${code}`);
      for (const lang of LANGUAGES) expect(translate(lang, message.key)).not.toContain(code);
    }
    expect(text(refusalMessage('SOMETHING_NEW'))).toBe('Avvisat (SOMETHING_NEW)');
    expect(text(refusalMessage('OUT_OF_RANGE'), 'en')).toBe(
      'Refused: the value is outside the measuring range 0.6–33.3 mmol/L',
    );
  });

  it('marks each reading of an ack: refused by index, the rest sent, or already there when all were', () => {
    const readings = [r(7), r(8, { mmol: 45 }), r(9)];
    const sent = resultsOfBatch(
      readings,
      { ok: true, accepted: 2, duplicates: 0, rejected: [{ index: 1, seq: 8, code: 'OUT_OF_RANGE', message: '' }] },
      6,
    );
    expect(sent.map((x) => [x.seq, x.status, x.code])).toEqual([
      [7, 'sent', undefined],
      [8, 'refused', 'OUT_OF_RANGE'],
      [9, 'sent', undefined],
    ]);
    expect(text(statusMessage(sent[1]!))).toBe(translate('sv', 'meter.refused.OUT_OF_RANGE'));
    const again = resultsOfBatch([r(7), r(9)], { ok: true, accepted: 0, duplicates: 2, rejected: [] }, 9);
    expect(again.map((x) => x.status)).toEqual(['already', 'already']);
  });

  it('tells sent from already there in a mixed batch by the high-water mark, or says only "in Glucoboard"', () => {
    const mixed = resultsOfBatch([r(5), r(6), r(7)], { ok: true, accepted: 2, duplicates: 1, rejected: [] }, 5);
    expect(mixed.map((x) => x.status)).toEqual(['already', 'sent', 'sent']);
    const unknown = resultsOfBatch([r(5), r(6), r(7)], { ok: true, accepted: 1, duplicates: 2, rejected: [] }, 5);
    expect(unknown.map((x) => x.status)).toEqual(['stored', 'stored', 'stored']);
    expect(text(statusMessage(unknown[0]!))).toBe('Finns i Glucoboard');
  });

  it('counts the summary from the acks, refused and waiting from the rows', () => {
    const rows: ReadingResult[] = [
      { seq: 1, reading: r(1), status: 'sent' },
      { seq: 2, reading: r(2), status: 'refused', code: 'TOO_OLD' },
      { seq: 3, reading: null, status: 'unreadable', code: 'sensor-fault' },
      { seq: 4, reading: r(4), status: 'waiting' },
    ];
    expect(
      summarize(rows, [
        { ok: true, accepted: 1, duplicates: 0, rejected: [] },
        { ok: true, accepted: 0, duplicates: 3, rejected: [] },
      ]),
    ).toEqual({ sent: 1, already: 3, refused: 2, waiting: 1 });
  });
});
