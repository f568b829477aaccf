/**
 * Code systems and codes of FHIR R4 and the HL7 CGM implementation guide 1.0.0
 * (hl7.fhir.uv.cgm, http://hl7.org/fhir/uv/cgm) that Glucoboard speaks. SPEC section 3
 * (Interoperability) names the LOINC codes.
 */

export const FHIR_VERSION = '4.0.1';
export const FHIR_JSON = 'application/fhir+json';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const DATA_ABSENT_REASON = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
export const OBSERVATION_INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

export const CGM_IG = 'http://hl7.org/fhir/uv/cgm';
export const CGM_DATA_RECEIVER = `${CGM_IG}/CapabilityStatement/cgm-data-receiver`;
export const SUBMIT_CGM_BUNDLE = `${CGM_IG}/OperationDefinition/submit-cgm-bundle`;
export const cgmProfile = (id: string) => `${CGM_IG}/StructureDefinition/${id}`;

/** Swedish personal identity numbers (Skatteverket): personnummer and samordningsnummer. */
export const PERSONNUMMER_SYSTEM = 'urn:oid:1.2.752.129.2.1.3.1';
export const SAMORDNINGSNUMMER_SYSTEM = 'urn:oid:1.2.752.129.2.1.3.3';

/** Identifiers Glucoboard gives: a device reading's (meter serial, seq), as an RFC 3986 URN. */
export const URI_SYSTEM = 'urn:ietf:rfc:3986';

export const LOINC_CODES = {
  /** Glucose [Moles/volume] in Capillary blood by Glucometer. */
  fingerstick: '14743-9',
  /** Glucose [Moles/volume] in Interstitial fluid (CGM sensor reading, molar). */
  cgmMolar: '105272-9',
  /** Glucose [Mass/volume] in Interstitial fluid (CGM sensor reading, mass), accepted on submit. */
  cgmMass: '99504-3',
  summary: '107931-8',
  meanMolar: '105273-7',
  meanMass: '97507-8',
  timesInRanges: '106793-3',
  timeVeryLow: '104642-4',
  timeLow: '104641-6',
  timeInRange: '97510-2',
  timeHigh: '104640-8',
  timeVeryHigh: '104639-0',
  gmi: '97506-0',
  cv: '104638-2',
  daysOfWear: '104636-6',
  sensorActive: '104637-4',
} as const;

/** The CGM summary's member profiles, with their LOINC codes (IG: CGMSummaryObservation.hasMember). */
export const SUMMARY_MEMBERS = {
  meanMolar: { code: LOINC_CODES.meanMolar, profile: 'cgm-summary-mean-glucose-moles-per-volume' },
  timesInRanges: { code: LOINC_CODES.timesInRanges, profile: 'cgm-summary-times-in-ranges' },
  gmi: { code: LOINC_CODES.gmi, profile: 'cgm-summary-gmi' },
  cv: { code: LOINC_CODES.cv, profile: 'cgm-summary-coefficient-of-variation' },
  daysOfWear: { code: LOINC_CODES.daysOfWear, profile: 'cgm-summary-days-of-wear' },
  sensorActive: { code: LOINC_CODES.sensorActive, profile: 'cgm-summary-sensor-active-percentage' },
} as const;
export type SummaryMember = keyof typeof SUMMARY_MEMBERS;

/** The times-in-ranges panel's components, by Glucoboard's range names (SPEC: consensus ranges). */
export const RANGE_COMPONENTS = {
  veryLow: LOINC_CODES.timeVeryLow,
  low: LOINC_CODES.timeLow,
  inRange: LOINC_CODES.timeInRange,
  high: LOINC_CODES.timeHigh,
  veryHigh: LOINC_CODES.timeVeryHigh,
} as const;
