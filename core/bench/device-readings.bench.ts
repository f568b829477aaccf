import { bench, describe } from 'vitest';
import { z } from 'zod';
import type { DeviceKind, DeviceReading } from '../src/domain/reading.ts';
import { MEAL_MARKERS, METER_FLAGS, READING_KINDS } from '../src/domain/reading.ts';
import {
  FLAGGED_MMOL_MAX,
  FLAGGED_MMOL_MIN,
  MAX_BATCH_READINGS,
  MAX_FUTURE_SKEW_MS,
  MAX_READING_AGE_MS,
  READING_MMOL_MAX,
  READING_MMOL_MIN,
  validateReadingsBatch,
} from '../src/wire/device-readings.ts';
import type { BatchVerdict, ReadingsBatchContext, RejectedReading } from '../src/wire/device-readings.ts';

/**
 * validateReadingsBatch against the naive alternative, a zod schema of the same shape with the
 * same range and clock checks. Readings/s = hz × batch size.
 *
 *   npx vitest bench --run core/bench/device-readings.bench.ts --config vitest.config.ts
 */

const NOW = Date.parse('2025-06-15T10:00:00Z');
const CONTEXT: ReadingsBatchContext = { deviceKind: 'cgm', now: NOW };

/** A CGM's last 500 readings, 5 minutes apart, in Swedish summer time; a few LO/HI, a few meals. */
function batch(size: number): { readings: Record<string, unknown>[] } {
  const readings = Array.from({ length: size }, (_, i) => {
    const local = new Date(NOW - (size - i) * 5 * 60_000 + 2 * 3_600_000).toISOString().slice(0, 19);
    const reading: Record<string, unknown> = {
      seq: 100_000 + i,
      measuredAt: `${local}+02:00`,
      mmol: Math.round(60 + 50 * Math.sin(i / 20)) / 10,
    };
    if (i % 97 === 0) Object.assign(reading, { mmol: null, flag: i % 2 ? 'HI' : 'LO' });
    if (i % 31 === 0) reading['meal'] = 'before';
    return reading;
  });
  return { readings };
}

// --- The naive alternative ----------------------------------------------------------------------

const zodPayload = z.object({ readings: z.array(z.unknown()).max(MAX_BATCH_READINGS) });
const zodReading = z.object({
  seq: z.int().min(0),
  measuredAt: z.iso.datetime({ offset: true }),
  mmol: z.number().nullable(),
  flag: z.enum(METER_FLAGS).nullable().optional(),
  kind: z.enum(READING_KINDS).optional(),
  meal: z.enum(MEAL_MARKERS).nullable().optional(),
});

function zodValidate(payload: unknown, context: { deviceKind: DeviceKind; now: number }): BatchVerdict {
  const parsed = zodPayload.safeParse(payload);
  if (!parsed.success) return { ok: false, code: 'INVALID_PAYLOAD', message: parsed.error.issues[0]?.message ?? '' };
  const accepted: Array<{ index: number; reading: DeviceReading }> = [];
  const rejected: RejectedReading[] = [];
  parsed.data.readings.forEach((raw, index) => {
    const result = zodReading.safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      const field = issue?.path[0] === undefined ? undefined : String(issue.path[0]);
      rejected.push({ index, seq: null, code: 'INVALID_READING', message: issue?.message ?? '', field });
      return;
    }
    const r = result.data;
    const time = new Date(r.measuredAt).getTime();
    const reject = (code: RejectedReading['code'], field: string) =>
      rejected.push({ index, seq: r.seq, code, message: `${field} ${code}`, field });
    if (r.flag == null && r.mmol === null) return reject('INVALID_READING', 'mmol');
    if (r.flag != null && r.mmol !== null && (r.mmol < FLAGGED_MMOL_MIN || r.mmol > FLAGGED_MMOL_MAX)) {
      return reject('INVALID_READING', 'mmol');
    }
    if (r.flag == null && r.mmol !== null && (r.mmol < READING_MMOL_MIN || r.mmol > READING_MMOL_MAX)) {
      return reject('OUT_OF_RANGE', 'mmol');
    }
    if (time - context.now > MAX_FUTURE_SKEW_MS) return reject('FUTURE_TIMESTAMP', 'measuredAt');
    if (context.now - time > MAX_READING_AGE_MS) return reject('TOO_OLD', 'measuredAt');
    accepted.push({
      index,
      reading: {
        seq: r.seq,
        measuredAt: new Date(time),
        mmol: r.mmol,
        flag: r.flag ?? null,
        kind: r.kind ?? context.deviceKind,
        meal: r.meal ?? null,
      },
    });
  });
  return { ok: true, accepted, rejected };
}

// --- Both agree before they are timed -----------------------------------------------------------

const large = batch(MAX_BATCH_READINGS);
const single = batch(1);
for (const payload of [large, single]) {
  const ours = validateReadingsBatch(payload, CONTEXT);
  const theirs = zodValidate(payload, CONTEXT);
  if (!ours.ok || !theirs.ok || ours.rejected.length > 0 || JSON.stringify(ours) !== JSON.stringify(theirs)) {
    throw new Error('the two validators disagree on the benchmark batch');
  }
}

describe(`batch of ${MAX_BATCH_READINGS} readings`, () => {
  bench('validateReadingsBatch', () => {
    validateReadingsBatch(large, CONTEXT);
  });
  bench('zod schema', () => {
    zodValidate(large, CONTEXT);
  });
});

describe('batch of 1 reading', () => {
  bench('validateReadingsBatch', () => {
    validateReadingsBatch(single, CONTEXT);
  });
  bench('zod schema', () => {
    zodValidate(single, CONTEXT);
  });
});
