/**
 * The GATT UUIDs a Bluetooth glucose meter is read through, as the full 128-bit lower-case strings
 * Web Bluetooth takes (`navigator.bluetooth.requestDevice({ filters: [{ services: [...] }] })`).
 * The 16-bit numbers are the Bluetooth SIG's Assigned Numbers.
 */

/** The 128-bit UUID of a 16-bit SIG number: 0000xxxx-0000-1000-8000-00805f9b34fb (the Base UUID). */
export function bluetoothUuid(short: number): string {
  if (!Number.isInteger(short) || short < 0 || short > 0xffff) {
    throw new RangeError('a 16-bit Bluetooth UUID is a whole number from 0x0000 to 0xFFFF');
  }
  return `0000${short.toString(16).padStart(4, '0')}-0000-1000-8000-00805f9b34fb`;
}

/** Glucose Service (GLS). */
export const GLUCOSE_SERVICE = bluetoothUuid(0x1808);
/** Glucose Measurement: one stored result, notified during a Record Access Control Point transfer. */
export const GLUCOSE_MEASUREMENT = bluetoothUuid(0x2a18);
/** Glucose Measurement Context: meal, carbohydrates, tester..., notified right after its measurement. */
export const GLUCOSE_MEASUREMENT_CONTEXT = bluetoothUuid(0x2a34);
/** Glucose Feature: what the meter can detect (read). */
export const GLUCOSE_FEATURE = bluetoothUuid(0x2a51);
/** Record Access Control Point: written to ask for records, indicates the outcome. */
export const RECORD_ACCESS_CONTROL_POINT = bluetoothUuid(0x2a52);
/** Device Information Service. */
export const DEVICE_INFORMATION_SERVICE = bluetoothUuid(0x180a);
/** Serial Number String (UTF-8), in the Device Information Service. */
export const SERIAL_NUMBER_STRING = bluetoothUuid(0x2a25);
/** Current Time Service (optional on a meter). */
export const CURRENT_TIME_SERVICE = bluetoothUuid(0x1805);
/** Current Time: the meter's clock. */
export const CURRENT_TIME = bluetoothUuid(0x2a2b);
