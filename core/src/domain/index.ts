export * from './reading.ts';
export * from './ranges.ts';
export * from './random.ts';
export * from './glucose-model.ts';
export * from './demo-clinic.ts';
export * from './identity-number.ts';
export * from './alert-rules.ts';
export * from './statistics.ts';
