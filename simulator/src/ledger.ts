import type { MealMarker, MeterFlag, ReadingKind } from '@glucoboard/core/domain';
import { instantOf, type WireReading } from './wire.ts';

/**
 * What the server acknowledged, per device: every reading acked as stored (accepted or duplicate;
 * an ack only counts those two together) with its content, and every rejection with its code.
 * This is what verifyStored checks against the database: nothing acked may be missing.
 *
 * Columns of typed arrays rather than an object per reading: a storm of 10,000 meters backfilling
 * 144 readings each is 1.4 million readings, about 27 MB here.
 */
export interface AckedReading {
  seq: number;
  /** The instant the reading named (ms since the epoch). */
  measuredAt: number;
  mmol: number | null;
  flag: MeterFlag | null;
  kind: ReadingKind;
  meal: MealMarker | null;
}

export interface Rejection {
  seq: number | null;
  code: string;
  /** The code the simulator meant to provoke, or 'stored' for a reading it sent as valid. */
  expected: string;
}

const FLAGS = [null, 'LO', 'HI'] as const;
const KINDS = ['bgm', 'cgm', 'control'] as const;
const MEALS = [null, 'before', 'after'] as const;

export class DeviceLedger {
  readonly deviceId: string;
  #seq = new Float64Array(16);
  #at = new Float64Array(16);
  /** mmol × 10 (readings carry one decimal), -1 for none. */
  #tenths = new Int16Array(16);
  /** flag | kind << 2 | meal << 4, as indexes of the lists above. */
  #codes = new Uint8Array(16);
  #count = 0;
  readonly rejections: Rejection[] = [];

  constructor(deviceId: string) {
    this.deviceId = deviceId;
  }

  stored(reading: WireReading): void {
    if (this.#count === this.#seq.length) this.#grow();
    const i = this.#count++;
    this.#seq[i] = reading.seq;
    this.#at[i] = instantOf(reading);
    this.#tenths[i] = reading.mmol === null ? -1 : Math.round(reading.mmol * 10);
    this.#codes[i] =
      FLAGS.indexOf(reading.flag) | (KINDS.indexOf(reading.kind) << 2) | (MEALS.indexOf(reading.meal) << 4);
  }

  rejected(rejection: Rejection): void {
    this.rejections.push(rejection);
  }

  get ackedCount(): number {
    return this.#count;
  }

  *acked(): IterableIterator<AckedReading> {
    for (let i = 0; i < this.#count; i++) {
      const code = this.#codes[i]!;
      yield {
        seq: this.#seq[i]!,
        measuredAt: this.#at[i]!,
        mmol: this.#tenths[i]! < 0 ? null : this.#tenths[i]! / 10,
        flag: FLAGS[code & 3]!,
        kind: KINDS[(code >> 2) & 3]!,
        meal: MEALS[(code >> 4) & 3]!,
      };
    }
  }

  #grow(): void {
    const size = this.#seq.length * 2;
    const grow = <T extends Float64Array | Int16Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.#seq = grow(this.#seq, (n) => new Float64Array(n));
    this.#at = grow(this.#at, (n) => new Float64Array(n));
    this.#tenths = grow(this.#tenths, (n) => new Int16Array(n));
    this.#codes = grow(this.#codes, (n) => new Uint8Array(n));
  }
}

/** Every device's acknowledged readings and rejections in a run. */
export class Ledger {
  readonly #devices = new Map<string, DeviceLedger>();

  device(deviceId: string): DeviceLedger {
    let device = this.#devices.get(deviceId);
    if (!device) {
      device = new DeviceLedger(deviceId);
      this.#devices.set(deviceId, device);
    }
    return device;
  }

  devices(): IterableIterator<DeviceLedger> {
    return this.#devices.values();
  }

  get acked(): number {
    let n = 0;
    for (const d of this.#devices.values()) n += d.ackedCount;
    return n;
  }
}
