export * from './people.ts';
export * from './device-readings.ts';
export * from './device-status.ts';
export * from './alerts.ts';
export * from './summary.ts';
export * from './board.ts';
export * from './csv.ts';
export * from './nightscout.ts';
