export * from './database.ts';
export * from './migrate.ts';
export * from './readings.ts';
export * from './maintenance.ts';
export * from './care.ts';
export * from './outbox.ts';
