import { FieldReader } from './errors.ts';

/** Glucose Feature (0x2A51): a uint16 of what the meter supports, bits 0-10; 11-15 reserved. */
export const GLUCOSE_FEATURE_BITS = [
  'lowBatteryDetection',
  'sensorMalfunctionDetection',
  'sensorSampleSize',
  'stripInsertionErrorDetection',
  'stripTypeErrorDetection',
  'resultHighLowDetection',
  'temperatureHighLowDetection',
  'readInterruptDetection',
  'generalDeviceFault',
  'timeFault',
  'multipleBond',
] as const;
export type GlucoseFeatureBit = (typeof GLUCOSE_FEATURE_BITS)[number];

/**
 * `multipleBond`: the meter keeps bonds with more than one collector (phone); without it, pairing
 * with this page may drop the meter's bond with the patient's own app.
 */
export type GlucoseFeatures = Record<GlucoseFeatureBit, boolean> & { reservedBits: number };

export function decodeGlucoseFeature(data: DataView): GlucoseFeatures {
  const bits = new FieldReader(data, 'Glucose Feature').uint16('features');
  const features = { reservedBits: bits & 0xf800 } as GlucoseFeatures;
  GLUCOSE_FEATURE_BITS.forEach((name, bit) => (features[name] = (bits & (1 << bit)) !== 0));
  return features;
}
