import type { Bundle, BundleEntry, OperationOutcome, Resource } from './resources.ts';

/**
 * A search's answer (FHIR R4 Bundle type searchset): the matches, resources they reference
 * (search mode include) and an OperationOutcome to say why nothing matched (mode outcome); `self`
 * and, when there is more, `next` links (http.html#paging: follow them as given).
 */
export function searchsetBundle(options: {
  base: string;
  self: string;
  next?: string;
  matches: Resource[];
  includes?: Resource[];
  outcome?: OperationOutcome;
  timestamp?: Date;
}): Bundle {
  const entry = (resource: Resource, mode: 'match' | 'include' | 'outcome'): BundleEntry => ({
    ...('id' in resource && resource.id
      ? { fullUrl: `${options.base}/${resource.resourceType}/${String(resource.id)}` }
      : {}),
    resource,
    search: { mode },
  });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    timestamp: (options.timestamp ?? new Date()).toISOString(),
    link: [{ relation: 'self', url: options.self }, ...(options.next ? [{ relation: 'next', url: options.next }] : [])],
    entry: [
      ...options.matches.map((r) => entry(r, 'match')),
      ...(options.includes ?? []).map((r) => entry(r, 'include')),
      ...(options.outcome ? [entry(options.outcome, 'outcome')] : []),
    ],
  };
}

/** The answer of a transaction-like operation: one entry per submitted entry, in the same order. */
export function transactionResponse(
  responses: Array<NonNullable<BundleEntry['response']>>,
  timestamp = new Date(),
): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    timestamp: timestamp.toISOString(),
    entry: responses.map((response) => ({ response })),
  };
}
