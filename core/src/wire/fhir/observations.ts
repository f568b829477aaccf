import { createHash } from 'node:crypto';
import { parseIdentityNumber } from '../../domain/identity-number.ts';
import type { MeterFlag, ReadingSource } from '../../domain/reading.ts';
import {
  cgmProfile,
  DATA_ABSENT_REASON,
  LOINC,
  LOINC_CODES,
  OBSERVATION_CATEGORY,
  OBSERVATION_INTERPRETATION,
  PERSONNUMMER_SYSTEM,
  SAMORDNINGSNUMMER_SYSTEM,
  UCUM,
  URI_SYSTEM,
} from './codes.ts';
import type { CodeableConcept, Observation, Patient, Quantity } from './resources.ts';

/** A stored reading, as much of it as FHIR shows (core/src/storage/fhir-readings.ts gives it). */
export interface ReadingForFhir {
  /** The reading's key among the patient's readings of the same instant (storage). */
  key: string;
  measuredAt: Date;
  receivedAt: Date;
  mmol: number | null;
  flag: MeterFlag | null;
  kind: 'bgm' | 'cgm';
  source: ReadingSource;
  deviceSerial: string | null;
  seq: number | null;
  enteredBy: { id: string; name: string } | null;
  importIdentifier: { system: string; value: string } | null;
}

/** A reading's Observation id: stable, [A-Za-z0-9-.]{1,64}, and telling nothing about the patient. */
export function readingObservationId(patientId: string, measuredAt: Date, key: string): string {
  const digest = createHash('sha256').update(`${patientId}|${measuredAt.toISOString()}|${key}`).digest('hex');
  return `r-${digest.slice(0, 40)}`;
}

export const LABORATORY: CodeableConcept[] = [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'laboratory' }] }];

export const loinc = (code: string): CodeableConcept => ({ coding: [{ system: LOINC, code }] });

/** The IG's molar glucose quantity: UCUM `mmol/L`, unit text as in its profiles. */
export const mmolQuantity = (value: number): Quantity => ({ value, unit: 'mmol/l', system: UCUM, code: 'mmol/L' });

/**
 * A meter's LO/HI: below or above what the sensor can measure. No value (any stand-in number would
 * be invented), a data-absent reason as the Personal Health Devices IG maps such special values
 * (negative/positive infinity), and the off-scale interpretation.
 */
const OFF_SCALE = {
  LO: { absent: 'negative-infinity', interpretation: '<', text: 'below the measuring range (LO)' },
  HI: { absent: 'positive-infinity', interpretation: '>', text: 'above the measuring range (HI)' },
} as const;

/**
 * A reading as an Observation: a fingerstick reading as LOINC 14743-9 in mmol/L; a CGM reading as
 * the IG's cgm-sensor-reading-moles-per-volume (LOINC 105272-9). The value, or for LO/HI a
 * dataAbsentReason and interpretation (IG invariant cgm-sensor-value-or-dar). A manual entry names
 * who typed it in (performer); a device reading its meter (device) and (serial, seq) identifier;
 * an imported reading the identifier its submitter gave it.
 */
export function readingObservation(patientId: string, reading: ReadingForFhir): Observation {
  const cgm = reading.kind === 'cgm';
  const observation: Observation = {
    resourceType: 'Observation',
    id: readingObservationId(patientId, reading.measuredAt, reading.key),
    ...(cgm ? { meta: { profile: [cgmProfile('cgm-sensor-reading-moles-per-volume')] } } : {}),
    status: 'final',
    category: LABORATORY,
    code: loinc(cgm ? LOINC_CODES.cgmMolar : LOINC_CODES.fingerstick),
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: reading.measuredAt.toISOString(),
    issued: reading.receivedAt.toISOString(),
  };
  if (reading.deviceSerial !== null && reading.seq !== null) {
    observation.identifier = [
      {
        system: URI_SYSTEM,
        value: `urn:glucoboard:reading:${encodeURIComponent(reading.deviceSerial)}:${reading.seq}`,
      },
    ];
    observation.device = { display: `meter ${reading.deviceSerial}` };
  } else if (reading.importIdentifier) {
    observation.identifier = [{ ...reading.importIdentifier }];
  }
  if (reading.enteredBy) {
    observation.performer = [
      {
        type: 'Practitioner',
        identifier: { system: URI_SYSTEM, value: `urn:uuid:${reading.enteredBy.id}` },
        display: reading.enteredBy.name,
      },
    ];
  }
  if (reading.flag !== null) {
    const scale = OFF_SCALE[reading.flag];
    observation.dataAbsentReason = { coding: [{ system: DATA_ABSENT_REASON, code: scale.absent }], text: scale.text };
    observation.interpretation = [{ coding: [{ system: OBSERVATION_INTERPRETATION, code: scale.interpretation }] }];
  } else if (reading.mmol !== null) {
    observation.valueQuantity = mmolQuantity(reading.mmol);
  }
  return observation;
}

/**
 * The Patient: its name, and where known and shown to the caller, its Swedish identity number
 * under the personnummer's (or samordningsnummer's) OID.
 */
export function patientResource(patient: { id: string; name: string; identityNumber: string | null }): Patient {
  const parsed = patient.identityNumber ? parseIdentityNumber(patient.identityNumber) : undefined;
  return {
    resourceType: 'Patient',
    id: patient.id,
    ...(parsed?.ok
      ? {
          identifier: [
            {
              use: 'official',
              system: parsed.kind === 'samordningsnummer' ? SAMORDNINGSNUMMER_SYSTEM : PERSONNUMMER_SYSTEM,
              value: parsed.value,
            },
          ],
        }
      : {}),
    name: [{ text: patient.name }],
  };
}
