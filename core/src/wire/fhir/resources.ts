/**
 * The parts of FHIR R4 resources Glucoboard writes and reads: just enough typing to build them
 * correctly (the tests validate every one with a real FHIR validator).
 */

export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
export interface CodeableConcept {
  coding?: Coding[];
  text?: string;
}
export interface Quantity {
  value?: number;
  unit?: string;
  system?: string;
  code?: string;
}
export interface Identifier {
  use?: string;
  system?: string;
  value?: string;
}
export interface Reference {
  reference?: string;
  type?: string;
  identifier?: Identifier;
  display?: string;
}
export interface Period {
  start?: string;
  end?: string;
}
export interface Meta {
  profile?: string[];
  lastUpdated?: string;
}

export interface ObservationComponent {
  code: CodeableConcept;
  valueQuantity?: Quantity;
}

export interface Observation {
  resourceType: 'Observation';
  id?: string;
  meta?: Meta;
  identifier?: Identifier[];
  status: string;
  category?: CodeableConcept[];
  code: CodeableConcept;
  subject?: Reference;
  effectiveDateTime?: string;
  effectivePeriod?: Period;
  issued?: string;
  performer?: Reference[];
  valueQuantity?: Quantity;
  dataAbsentReason?: CodeableConcept;
  interpretation?: CodeableConcept[];
  device?: Reference;
  hasMember?: Reference[];
  component?: ObservationComponent[];
}

export interface Patient {
  resourceType: 'Patient';
  id: string;
  identifier?: Identifier[];
  name?: Array<{ text?: string }>;
}

export interface OperationOutcomeIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: string;
  details?: { text?: string; coding?: Coding[] };
  diagnostics?: string;
  expression?: string[];
}
export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: OperationOutcomeIssue[];
}

export type Resource =
  | Observation
  | Patient
  | OperationOutcome
  | Bundle
  | { resourceType: string; [key: string]: unknown };

export interface BundleEntry {
  fullUrl?: string;
  resource?: Resource;
  search?: { mode: 'match' | 'include' | 'outcome' };
  request?: { method?: string; url?: string; ifNoneExist?: string };
  response?: { status: string; location?: string; outcome?: OperationOutcome };
}
export interface Bundle {
  resourceType: 'Bundle';
  id?: string;
  type: string;
  timestamp?: string;
  link?: Array<{ relation: string; url: string }>;
  entry?: BundleEntry[];
}
