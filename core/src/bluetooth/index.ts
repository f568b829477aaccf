/**
 * Bluetooth SIG Glucose Profile (GLP 1.0) / Glucose Service (GLS 1.0) for reading a fingerstick
 * meter from the browser (Web Bluetooth): UUIDs, decoders of the characteristics, the Record Access
 * Control Point requests, and the mapping to the device reading of SPEC section 4.
 *
 * Pure and browser-safe: DataView and Uint8Array only, no Node APIs, no clock, no I/O. Every
 * decoder throws GlucoseDecodeError (with a code) on bytes it cannot read, never a guess.
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
