import type pg from 'pg';
import { readingFingerprint } from '@glucoboard/core/domain';
import type { AckedReading, Ledger } from './ledger.ts';

/**
 * The check the CI smoke test and the benchmark assert on (SPEC section 6: "nothing acknowledged is
 * ever lost; nothing is stored twice"): every reading the server acked as stored must have exactly
 * one row in `readings`, with the content the meter sent.
 */
export interface StoredVerification {
  /** Readings acked as stored (accepted or duplicate). */
  acked: number;
  /** Of those, how many have a row. */
  stored: number;
  /** Acked but no row. */
  lost: number;
  /** (device, seq) keys of the run's devices with more than one row, acked or not. */
  duplicated: number;
  /** Acked, stored, but with other content than was sent. */
  mismatched: number;
  /** A few of the problems, for a person to look at. */
  examples: string[];
}

/** Devices per query: each query reads those devices' rows once. */
const DEVICES_PER_QUERY = 1000;

export async function verifyStored(pool: pg.Pool, ledger: Ledger): Promise<StoredVerification> {
  const result: StoredVerification = { acked: 0, stored: 0, lost: 0, duplicated: 0, mismatched: 0, examples: [] };
  const example = (text: string) => {
    if (result.examples.length < 20) result.examples.push(text);
  };
  const devices = [...ledger.devices()];
  for (let i = 0; i < devices.length; i += DEVICES_PER_QUERY) {
    const chunk = devices.slice(i, i + DEVICES_PER_QUERY);
    const rows = await pool.query<{
      device_serial: string;
      seq: number;
      copies: number;
      measured_at: Date;
      mmol: number | null;
      flag: AckedReading['flag'];
      kind: AckedReading['kind'];
      meal: AckedReading['meal'];
    }>(
      `select device_serial, seq::float8 as seq, count(*)::int as copies, min(measured_at) as measured_at,
              min(mmol) as mmol, min(flag) as flag, min(kind) as kind, min(meal) as meal
       from readings
       where device_serial = any($1::text[])
       group by device_serial, seq`,
      [chunk.map((d) => d.deviceId)],
    );
    const found = new Map<string, (typeof rows.rows)[number]>();
    for (const row of rows.rows) {
      found.set(`${row.device_serial}\u0000${row.seq}`, row);
      if (row.copies > 1) {
        result.duplicated++;
        example(`${row.device_serial} seq ${row.seq}: ${row.copies} rows`);
      }
    }
    for (const device of chunk) {
      for (const reading of device.acked()) {
        result.acked++;
        const row = found.get(`${device.deviceId}\u0000${reading.seq}`);
        if (!row) {
          result.lost++;
          example(`${device.deviceId} seq ${reading.seq}: acked but not stored`);
          continue;
        }
        result.stored++;
        const sent = readingFingerprint({ ...reading, measuredAt: new Date(reading.measuredAt) });
        const kept = readingFingerprint({ ...row, measuredAt: row.measured_at });
        if (sent !== kept) {
          result.mismatched++;
          example(`${device.deviceId} seq ${reading.seq}: sent ${sent}, stored ${kept}`);
        }
      }
    }
  }
  return result;
}

/**
 * The devices with nextSeq moved past every seq already stored for them, so that meters which ran
 * before (a live demo before a restart) do not reuse a seq for another reading (SEQ_CONFLICT).
 */
export async function continueAfterStored<T extends { deviceId: string; nextSeq: number }>(
  pool: pg.Pool,
  devices: readonly T[],
): Promise<T[]> {
  const found = await pool.query<{ device_serial: string; last: number }>(
    `select device_serial, max(seq)::float8 as last from reading_keys where device_serial = any($1::text[]) group by device_serial`,
    [devices.map((d) => d.deviceId)],
  );
  const last = new Map(found.rows.map((r) => [r.device_serial, r.last]));
  return devices.map((d) => ({ ...d, nextSeq: Math.max(d.nextSeq, (last.get(d.deviceId) ?? -1) + 1) }));
}
