export * from './people.ts';
export * from './device-readings.ts';
