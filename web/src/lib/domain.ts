/**
 * The shared domain code the app runs (core/src/domain: consensus ranges, triage), imported file by
 * file rather than through `@glucoboard/core/domain`, whose index also brings the demo clinic and
 * the simulator's glucose model into the bundle. Reused as is, never copied.
 */
export {
  GLUCOSE_RANGES,
  MGDL_PER_MMOL,
  RANGE_BOUNDS,
  glucoseRange,
  mgdlToMmol,
  type GlucoseRange,
} from '../../../core/src/domain/ranges.ts';
export {
  TRIAGE_CATEGORIES,
  TRIAGE_LIMITS,
  compareTriage,
  tooLittleData,
  triage,
  type TriageCategory,
  type TriageKey,
} from '../../../core/src/domain/statistics.ts';
export { ALERT_RULES } from '../../../core/src/domain/alert-rules.ts';
export {
  TARGET_PROFILES,
  profileTargets,
  type ProfileTargets,
  type TargetProfile,
  type TargetShares,
} from '../../../core/src/domain/targets.ts';
