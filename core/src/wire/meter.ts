import { z } from 'zod';
import { MAX_BATCH_READINGS } from './device-readings.ts';
import { newDeviceBody } from './people.ts';

/**
 * The meter page (docs/meters.md): a nurse signed in reads a Bluetooth glucose meter for one of
 * her team's patients. The meter's serial (Device Information 0x2A25) names the device, exactly
 * as a serial paired through POST /api/devices does.
 */

/** A meter's serial, held to the pairing rules (it is the deviceId). */
const meterSerial = newDeviceBody.shape.serial;

export const meterQuery = z
  .strictObject({ serial: meterSerial })
  .meta({ id: 'MeterQuery', description: 'Which meter (its serial number)' });
export type MeterQuery = z.infer<typeof meterQuery>;

export const meterPairBody = z
  .strictObject({ serial: meterSerial })
  .meta({ id: 'MeterPair', description: 'Pair the meter read on the meter page with the patient (team admins)' });
export type MeterPair = z.infer<typeof meterPairBody>;

/**
 * A batch read from the meter. The readings have the device shape (SPEC section 4) and are
 * checked one by one by the device ingest path, like a meter's own batch: here only their number.
 */
export const meterReadingsBody = z
  .strictObject({
    serial: meterSerial,
    readings: z
      .array(z.unknown())
      .max(MAX_BATCH_READINGS)
      .describe('Readings in the device shape: { seq, measuredAt, mmol, flag?, kind?, meal? }'),
  })
  .meta({ id: 'MeterReadings', description: 'Readings read from a Bluetooth meter on the meter page' });
export type MeterReadings = z.infer<typeof meterReadingsBody>;

/** How the meter stands for the patient the nurse picked. */
export const METER_STATES = ['paired', 'unpaired'] as const;
export type MeterState = (typeof METER_STATES)[number];

export const meterStatusView = z.object({
  serial: z.string(),
  patientId: z.string(),
  state: z.enum(METER_STATES),
  /** Unpaired: whether the caller may pair it here (team admins). */
  canPair: z.boolean(),
  /** The highest seq stored for the meter; the next read asks for the records after it. */
  highWaterSeq: z.number().int().nullable(),
});
export type MeterStatusView = z.infer<typeof meterStatusView>;

/** The device's own view, for a patient's phone (Authorization: Device ...). */
export const deviceHighWaterView = z.object({
  deviceId: z.string(),
  highWaterSeq: z.number().int().nullable(),
});
export type DeviceHighWaterView = z.infer<typeof deviceHighWaterView>;
