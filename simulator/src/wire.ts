import { swedishUtcOffsetMinutes, type MealMarker, type MeterFlag, type ReadingKind } from '@glucoboard/core/domain';
import type { Measurement } from './measurements.ts';

/** A reading as the device contract puts it on the wire (SPEC section 4). */
export interface WireReading {
  seq: number;
  measuredAt: string;
  mmol: number | null;
  flag: MeterFlag | null;
  kind: ReadingKind;
  meal: MealMarker | null;
}

/** The ack of a `readings` batch, as the contract defines it. */
export type ReadingsAck =
  | {
      ok: true;
      accepted: number;
      duplicates: number;
      rejected: { index: number; seq: number | null; code: string; message: string; field?: string }[];
    }
  | { ok: false; code: string; message: string; retryAfterMs?: number };

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * An instant as a Swedish meter's clock shows it: local wall time with its UTC offset
 * (`2025-03-01T08:00:00+01:00`), whole seconds, as the contract's example. The offset follows
 * Swedish summer time, so a simulation across a clock change sends both offsets.
 */
export function swedishTimestamp(at: number): string {
  const offset = swedishUtcOffsetMinutes(new Date(at));
  const local = new Date(Math.floor(at / 1000) * 1000 + offset * 60_000);
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/**
 * A measurement as the device sends it: its seq, and its instant read off the device's own clock,
 * which runs `skewMs` ahead (or behind, if negative) of true time.
 */
export function toWire(measurement: Measurement, seq: number, skewMs: number): WireReading {
  return {
    seq,
    measuredAt: swedishTimestamp(measurement.at + skewMs),
    mmol: measurement.mmol,
    flag: measurement.flag,
    kind: measurement.kind,
    meal: measurement.meal,
  };
}

/** The instant (ms) a wire reading names: what the server stores as measured_at. */
export function instantOf(reading: WireReading): number {
  return Date.parse(reading.measuredAt);
}

/** The ack as the contract shapes it, or null for anything else (which the meter treats as no answer). */
export function readAck(raw: unknown): ReadingsAck | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const ack = raw as Record<string, unknown>;
  if (ack['ok'] === true) {
    const { accepted, duplicates, rejected } = ack;
    if (typeof accepted !== 'number' || typeof duplicates !== 'number' || !Array.isArray(rejected)) return null;
    for (const r of rejected as unknown[]) {
      const entry = r as Record<string, unknown> | null;
      if (typeof entry !== 'object' || entry === null) return null;
      if (typeof entry['index'] !== 'number' || typeof entry['code'] !== 'string') return null;
    }
    return ack as ReadingsAck;
  }
  if (ack['ok'] === false && typeof ack['code'] === 'string') return ack as ReadingsAck;
  return null;
}
