export * from './reading.ts';
export * from './ranges.ts';
export * from './swedish-time.ts';
export * from './care-team.ts';
export * from './identity-number.ts';
export * from './alert-rules.ts';
export * from './statistics.ts';
export * from './targets.ts';
