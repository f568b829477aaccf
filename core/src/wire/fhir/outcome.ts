import type { OperationOutcome, OperationOutcomeIssue } from './resources.ts';

/**
 * OperationOutcome for every refusal (FHIR R4 http.html: errors are OperationOutcomes). Each issue
 * has an IssueType code, Glucoboard's own error code in details.coding (so a client can branch on
 * it, as on the People API's `error.code`), a text, and where it applies, a FHIRPath expression.
 */
export const GLUCOBOARD_ERROR_SYSTEM = 'urn:glucoboard:error-code';

export interface IssueInput {
  severity?: OperationOutcomeIssue['severity'];
  /** FHIR IssueType: invalid, not-found, forbidden, login, not-supported, conflict, processing, ... */
  type: string;
  /** Glucoboard's error code, e.g. NOT_FOUND, OUT_OF_RANGE. */
  code: string;
  message: string;
  expression?: string;
}

export function issue(input: IssueInput): OperationOutcomeIssue {
  return {
    severity: input.severity ?? 'error',
    code: input.type,
    details: { coding: [{ system: GLUCOBOARD_ERROR_SYSTEM, code: input.code }], text: input.message },
    ...(input.expression ? { expression: [input.expression] } : {}),
  };
}

export function operationOutcome(...issues: IssueInput[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues.map(issue) };
}
