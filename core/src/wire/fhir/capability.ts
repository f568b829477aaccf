import { cgmProfile, CGM_DATA_RECEIVER, FHIR_JSON, FHIR_VERSION, SUBMIT_CGM_BUNDLE } from './codes.ts';

/**
 * GET /metadata: what this server really does. It instantiates the CGM IG's cgm-data-receiver (the
 * IG: "Any CGM Data Receiver SHALL populate its /metadata response to ensure that
 * CapabilityStatement.instantiates includes" it) since $submit-cgm-bundle is served.
 */
export function capabilityStatement(options: { base: string; tokenUrl: string; date: string; version: string }) {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: options.date,
    publisher: 'Glucoboard',
    kind: 'instance',
    instantiates: [CGM_DATA_RECEIVER],
    software: { name: 'Glucoboard', version: options.version },
    implementation: { description: 'Glucoboard FHIR R4 server for glucose data', url: options.base },
    fhirVersion: FHIR_VERSION,
    format: [FHIR_JSON, 'json'],
    rest: [
      {
        mode: 'server',
        documentation: 'docs/fhir.md: readings and CGM summaries out, $submit-cgm-bundle in',
        security: {
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [{ url: 'token', valueUri: options.tokenUrl }],
            },
          ],
          service: [
            {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' }],
            },
          ],
          description:
            "OAuth 2 client credentials (client_secret_basic or client_secret_post) for a team's API client; or a signed-in user's session cookie",
        },
        resource: [
          {
            type: 'Patient',
            interaction: [{ code: 'read' }],
          },
          {
            type: 'Observation',
            supportedProfile: [
              cgmProfile('cgm-sensor-reading-moles-per-volume'),
              cgmProfile('cgm-summary'),
              cgmProfile('cgm-summary-mean-glucose-moles-per-volume'),
              cgmProfile('cgm-summary-times-in-ranges'),
              cgmProfile('cgm-summary-gmi'),
              cgmProfile('cgm-summary-coefficient-of-variation'),
              cgmProfile('cgm-summary-days-of-wear'),
              cgmProfile('cgm-summary-sensor-active-percentage'),
            ],
            interaction: [{ code: 'search-type' }],
            searchParam: [
              { name: 'patient', type: 'reference' },
              { name: 'subject', type: 'reference' },
              { name: 'code', type: 'token' },
              { name: 'date', type: 'date' },
              { name: '_count', type: 'number' },
            ],
          },
        ],
        operation: [{ name: 'submit-cgm-bundle', definition: SUBMIT_CGM_BUNDLE }],
      },
    ],
  };
}
