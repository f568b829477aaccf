import {
  CURRENT_TIME,
  CURRENT_TIME_SERVICE,
  DEVICE_INFORMATION_SERVICE,
  GLUCOSE_FEATURE,
  GLUCOSE_MEASUREMENT,
  GLUCOSE_MEASUREMENT_CONTEXT,
  GLUCOSE_SERVICE,
  RECORD_ACCESS_CONTROL_POINT,
  SERIAL_NUMBER_STRING,
  bluetoothUuid,
} from '@glucoboard/core/bluetooth';
import type { RawRecord } from './records';
import {
  webBluetooth,
  type BluetoothCharacteristic,
  type BluetoothGattServer,
  type BluetoothMeterDevice,
} from './web-bluetooth';

/**
 * A standard Bluetooth glucose meter read over Web Bluetooth (Bluetooth SIG Glucose Profile):
 * connect, read its serial (Device Information 0x2A25), features and clock (Current Time, where
 * it has one), subscribe to Glucose Measurement (0x2A18) and Measurement Context (0x2A34)
 * notifications and Record Access Control Point (0x2A52) indications, write an RACP request and
 * collect the records it notifies until the RACP answers.
 */

/** What went wrong, as something a person can act on (the page words each). */
export type MeterProblem =
  | 'unsupported'
  | 'bluetooth-off'
  | 'cancelled'
  | 'not-allowed'
  | 'connect-failed'
  | 'no-glucose-service'
  | 'no-serial'
  | 'connection-lost'
  | 'racp-failed'
  | 'timeout';

export class MeterError extends Error {
  constructor(
    readonly problem: MeterProblem,
    message: string,
  ) {
    super(message);
    this.name = 'MeterError';
  }
}

export interface MeterInfo {
  serial: string;
  name: string | null;
  /** Glucose Feature, raw (decoded by the page when it needs it). */
  feature: DataView | null;
  /** Current Time when the meter has the service, and the phone's clock when it was read. */
  clock: { value: DataView; readAt: number } | null;
}

/** The RACP's answer that ends a transfer. */
export type TransferEnd = { ok: true } | { ok: true; noRecords: true } | { ok: false; code: number };

/** System ID (Device Information): a 64-bit id of the meter, readable where the serial is not. */
export const SYSTEM_ID = bluetoothUuid(0x2a23);

/** A deviceId from what the meter tells (the server's serial rules: A-Z, 0-9, '.', '_', ':', '-'). */
export function meterIdentity(told: {
  serialNumber: string | null;
  systemId: Uint8Array | null;
  name: string | null;
}): string | null {
  const clean = (text: string) =>
    text
      .replace(/\0+$/, '')
      .trim()
      .replace(/[^A-Za-z0-9._:-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64);
  const serial = told.serialNumber === null ? '' : clean(told.serialNumber);
  if (serial) return serial;
  if (told.systemId && told.systemId.length > 0 && told.systemId.some((b) => b !== 0))
    return `SID-${[...told.systemId]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('')
      .toUpperCase()}`;
  const name = told.name === null ? '' : clean(told.name);
  return name || null;
}

/** Bytes of a notification, copied: the browser may reuse the buffer for the next one. */
const copied = (value: DataView) =>
  new DataView(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));

/** The browser's device chooser, for meters with the Glucose Service. */
export async function chooseMeter(): Promise<BluetoothMeterDevice> {
  const bluetooth = webBluetooth();
  if (!bluetooth) throw new MeterError('unsupported', 'this browser has no Web Bluetooth');
  if (!(await bluetooth.getAvailability().catch(() => true)))
    throw new MeterError('bluetooth-off', 'Bluetooth is off or missing on this device');
  try {
    return await bluetooth.requestDevice({
      filters: [{ services: [GLUCOSE_SERVICE] }],
      optionalServices: [DEVICE_INFORMATION_SERVICE, CURRENT_TIME_SERVICE],
    });
  } catch (err) {
    throw chooserProblem(err);
  }
}

function chooserProblem(err: unknown): MeterError {
  const name = (err as { name?: string }).name;
  const message = err instanceof Error ? err.message : String(err);
  if (/adapter/i.test(message)) return new MeterError('bluetooth-off', message);
  if (name === 'NotFoundError') return new MeterError('cancelled', message);
  if (name === 'SecurityError' || name === 'NotAllowedError') return new MeterError('not-allowed', message);
  return new MeterError('connect-failed', message);
}

type RecordHandler = (record: RawRecord) => void;

/** One connection to a chosen meter. A new one is made to resume after the link was lost. */
export class GlucoseMeterLink {
  #server: BluetoothGattServer | undefined;
  #racp: BluetoothCharacteristic | undefined;
  #onRecord: RecordHandler | undefined;
  /** A measurement whose context is announced: held until the context (or the next record) comes. */
  #held: RawRecord | undefined;
  #answer: ((end: TransferEnd) => void) | undefined;
  #lost: ((err: MeterError) => void) | undefined;
  #activity: (() => void) | undefined;
  readonly #onDisconnected = () => {
    this.#lost?.(new MeterError('connection-lost', 'the meter disconnected'));
  };

  constructor(
    readonly device: BluetoothMeterDevice,
    private readonly decode: {
      sequenceOfMeasurement(value: DataView): { sequence: number; contextFollows: boolean };
      sequenceOfContext(value: DataView): number;
      racpAnswer(value: DataView): TransferEnd | null;
    },
    private readonly options: { idleTimeoutMs?: number } = {},
  ) {}

  get connected(): boolean {
    return this.#server?.connected ?? false;
  }

  /** Connects, reads what the meter is, and subscribes to its records. */
  async open(): Promise<MeterInfo> {
    const gatt = this.device.gatt;
    if (!gatt) throw new MeterError('connect-failed', 'the meter has no GATT server');
    this.device.removeEventListener('gattserverdisconnected', this.#onDisconnected);
    this.device.addEventListener('gattserverdisconnected', this.#onDisconnected);
    try {
      this.#server = await gatt.connect();
    } catch (err) {
      throw new MeterError('connect-failed', err instanceof Error ? err.message : String(err));
    }
    const server = this.#server;
    const glucose = await server.getPrimaryService(GLUCOSE_SERVICE).catch((err: unknown) => {
      throw new MeterError('no-glucose-service', err instanceof Error ? err.message : String(err));
    });
    const serial = await this.#identity(server);
    const feature = await glucose
      .getCharacteristic(GLUCOSE_FEATURE)
      .then((c) => c.readValue())
      .then(copied)
      .catch(() => null);
    const clock = await server
      .getPrimaryService(CURRENT_TIME_SERVICE)
      .then((s) => s.getCharacteristic(CURRENT_TIME))
      .then((c) => c.readValue())
      .then((value) => ({ value: copied(value), readAt: Date.now() }))
      .catch(() => null);

    const measurement = await glucose.getCharacteristic(GLUCOSE_MEASUREMENT).catch((err: unknown) => {
      throw new MeterError('no-glucose-service', err instanceof Error ? err.message : String(err));
    });
    const context = await glucose.getCharacteristic(GLUCOSE_MEASUREMENT_CONTEXT).catch(() => null);
    const racp = await glucose.getCharacteristic(RECORD_ACCESS_CONTROL_POINT).catch((err: unknown) => {
      throw new MeterError('no-glucose-service', err instanceof Error ? err.message : String(err));
    });
    measurement.addEventListener('characteristicvaluechanged', (event) => this.#measured(event));
    context?.addEventListener('characteristicvaluechanged', (event) => this.#contextOf(event));
    racp.addEventListener('characteristicvaluechanged', (event) => this.#answered(event));
    try {
      await measurement.startNotifications();
      if (context) await context.startNotifications();
      await racp.startNotifications();
    } catch (err) {
      if (!this.connected) throw new MeterError('connection-lost', 'the meter disconnected');
      throw new MeterError('connect-failed', err instanceof Error ? err.message : String(err));
    }
    this.#racp = racp;
    return { serial, name: this.device.name ?? null, feature, clock };
  }

  /**
   * What names the meter (the deviceId Glucoboard keeps its readings under). The Serial Number
   * String (0x2A25) is on Web Bluetooth's GATT blocklist (reads excluded, against fingerprinting),
   * so a browser never gets it: it is tried, then the System ID (0x2A23), then the meter's
   * advertised name, which most meters make of their serial number.
   */
  async #identity(server: BluetoothGattServer): Promise<string> {
    const info = await server.getPrimaryService(DEVICE_INFORMATION_SERVICE).catch(() => null);
    const read = async (uuid: string) =>
      info
        ? await info
            .getCharacteristic(uuid)
            .then((c) => c.readValue())
            .then(copied)
            .catch(() => null)
        : null;
    const serial = await read(SERIAL_NUMBER_STRING);
    const systemId = serial ? null : await read(SYSTEM_ID);
    const identity = meterIdentity({
      serialNumber: serial ? new TextDecoder().decode(serial) : null,
      systemId: systemId ? new Uint8Array(systemId.buffer) : null,
      name: this.device.name ?? null,
    });
    if (!identity) throw new MeterError('no-serial', 'the meter tells neither its serial number nor a name');
    return identity;
  }

  /**
   * Writes the RACP request and hands every record to `onRecord` until the meter answers it. A
   * lost link rejects with connection-lost; the records handed over so far stay the caller's.
   */
  transfer(command: Uint8Array, onRecord: RecordHandler): Promise<TransferEnd> {
    const racp = this.#racp;
    if (!racp) return Promise.reject(new MeterError('connect-failed', 'not connected'));
    this.#onRecord = onRecord;
    this.#held = undefined;
    const idleMs = this.options.idleTimeoutMs ?? 30_000;
    return new Promise<TransferEnd>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        clearTimeout(timer);
        this.#answer = this.#lost = this.#activity = undefined;
        this.#onRecord = undefined;
      };
      this.#activity = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          finish();
          reject(new MeterError('timeout', 'the meter stopped sending'));
        }, idleMs);
      };
      this.#answer = (end) => {
        this.#release();
        finish();
        resolve(end);
      };
      this.#lost = (err) => {
        this.#release();
        finish();
        reject(err);
      };
      this.#activity();
      racp.writeValueWithResponse(command).catch((err: unknown) => {
        const lost = !this.connected;
        finish();
        reject(
          new MeterError(lost ? 'connection-lost' : 'racp-failed', err instanceof Error ? err.message : String(err)),
        );
      });
    });
  }

  close(): void {
    this.device.removeEventListener('gattserverdisconnected', this.#onDisconnected);
    if (this.#server?.connected) this.#server.disconnect();
  }

  #valueOf(event: Event): DataView | null {
    const value = (event.target as BluetoothCharacteristic | null)?.value;
    return value ? copied(value) : null;
  }

  #measured(event: Event): void {
    const value = this.#valueOf(event);
    if (!value || !this.#onRecord) return;
    this.#activity?.();
    let decoded: { sequence: number; contextFollows: boolean };
    try {
      decoded = this.decode.sequenceOfMeasurement(value);
    } catch {
      return; // not a record we can even number; the page cannot show it either
    }
    this.#release();
    const record: RawRecord = { seq: decoded.sequence, measurement: value };
    if (decoded.contextFollows) this.#held = record;
    else this.#onRecord(record);
  }

  #contextOf(event: Event): void {
    const value = this.#valueOf(event);
    if (!value || !this.#onRecord) return;
    this.#activity?.();
    let seq: number;
    try {
      seq = this.decode.sequenceOfContext(value);
    } catch {
      return;
    }
    if (this.#held && this.#held.seq === seq) {
      const record = { ...this.#held, context: value };
      this.#held = undefined;
      this.#onRecord(record);
    }
  }

  /** A held measurement goes without its context when the next record or the answer comes. */
  #release(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held) this.#onRecord?.(held);
  }

  #answered(event: Event): void {
    const value = this.#valueOf(event);
    if (!value) return;
    const end = this.decode.racpAnswer(value);
    if (end) this.#answer?.(end);
  }
}
