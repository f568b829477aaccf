/** FHIR R4 and the HL7 CGM IG 1.0.0: pure mapping between Glucoboard's data and FHIR resources. */
export * from './codes.ts';
export * from './resources.ts';
export * from './outcome.ts';
export * from './observations.ts';
export * from './summary.ts';
export * from './search.ts';
export * from './bundle.ts';
export * from './submit.ts';
export * from './capability.ts';
