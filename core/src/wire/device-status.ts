/** A meter's own state, sent in the `status` event of /devices (an addition to SPEC's contract). */
export interface DeviceStatus {
  batteryPercent: number | null;
  firmware: string | null;
}

export type DeviceStatusVerdict =
  | { ok: true; status: DeviceStatus }
  | { ok: false; code: 'INVALID_PAYLOAD'; message: string; field?: string };

const FIRMWARE = /^[\x20-\x7e]{1,64}$/;

/** `{ batteryPercent?: 0-100 | null, firmware?: 1-64 printable ASCII | null }`; other fields are ignored. */
export function validateDeviceStatus(payload: unknown): DeviceStatusVerdict {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, code: 'INVALID_PAYLOAD', message: 'the status must be an object' };
  }
  const { batteryPercent = null, firmware = null } = payload as Record<string, unknown>;
  if (
    batteryPercent !== null &&
    !(Number.isInteger(batteryPercent) && (batteryPercent as number) >= 0 && (batteryPercent as number) <= 100)
  ) {
    return {
      ok: false,
      code: 'INVALID_PAYLOAD',
      message: 'batteryPercent must be a whole number from 0 to 100, or null',
      field: 'batteryPercent',
    };
  }
  if (firmware !== null && !(typeof firmware === 'string' && FIRMWARE.test(firmware))) {
    return {
      ok: false,
      code: 'INVALID_PAYLOAD',
      message: 'firmware must be 1-64 printable ASCII characters, or null',
      field: 'firmware',
    };
  }
  return { ok: true, status: { batteryPercent: batteryPercent as number | null, firmware: firmware as string | null } };
}
