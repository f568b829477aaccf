/**
 * Bluetooth SIG Glucose Profile (GLP 1.0) / Glucose Service (GLS 1.0) for reading a fingerstick
 * meter from the browser (Web Bluetooth): UUIDs, decoders of the characteristics, the Record Access
 * Control Point requests, and the mapping to the device reading of SPEC section 4.
 *
 * Pure and browser-safe: DataView and Uint8Array only, no Node APIs, no clock, no I/O. Every
 * decoder throws GlucoseDecodeError (with a code) on bytes it cannot read, never a guess; bytes
 * after a value's last field are ignored (later versions of the service may append fields).
 *
 * Decoding notes (the layouts are in each module's comment):
 * - SFLOAT: the five raw values 0x07FF NaN, 0x0800 NRes, 0x07FE +INF, 0x0802 -INF, 0x0801
 *   reserved are specials; any other raw is mantissa x 10^exponent, computed as the double nearest
 *   the decimal (55, -1 is exactly 5.5).
 * - Type-sample location: type in the low nibble, location in the high one.
 * - Date Time zeros ("not known") decode; out-of-range fields throw INVALID_DATE_TIME.
 *
 * From a measurement to a device reading (`toDeviceReading`):
 * - seq is the meter's sequence number (uint16).
 * - measuredAt is base time + time offset on the meter's wall clock, read in the given IANA zone
 *   (the patient's) with Intl. A time the clock skips at spring-forward takes the offset before
 *   the change (02:30 on 2026-03-29 in Stockholm is 03:30+02:00); a time shown twice at fall-back is
 *   the earlier one (Temporal's 'compatible'). Written with the offset in force, whole seconds.
 * - mmol/L to one decimal from the SFLOAT's digits: kg/L x 10^5 = mg/dL, / 18.0156
 *   (MGDL_PER_MMOL); mol/L x 1000. Halves round up.
 * - Annunciation "result lower / higher than the device can process" gives LO / HI, as does an
 *   SFLOAT -INF / +INF; the number is kept if it is within 0-50 mmol/L (what SPEC accepts with a
 *   flag), else null. Both at once, or a strip, sample, sensor, temperature, read-interrupted or
 *   general fault: refused ('sensor-fault', faults named). Battery low and time fault are warnings.
 * - Sample type control solution (0x0A), or location control solution (4): kind 'control'; else 'bgm'.
 * - Context meal preprandial -> 'before', postprandial -> 'after'; fasting, casual, bedtime -> null.
 * - Refusals otherwise: no concentration, NaN/NRes/reserved, a value outside 0.6-33.3 without a
 *   flag, a clock not set (zeros), a date that does not exist, an unknown zone, a context of another
 *   sequence number. Every reading given passes validateReadingsBatch (core/src/wire).
 * - The meter's clock is kept (SPEC: measured_at is the device clock); meterClockDrift tells how
 *   far it is off, for the user to see.
 */
export * from './uuids.ts';
export * from './errors.ts';
export * from './sfloat.ts';
export * from './date-time.ts';
export * from './glucose-measurement.ts';
export * from './glucose-context.ts';
export * from './glucose-feature.ts';
export * from './racp.ts';
export * from './device-reading.ts';
export * from './records.ts';
