export * from './logger.ts';
export * from './redis.ts';
export * from './secrets.ts';
export * from './metrics.ts';
export * from './board-events.ts';
export * from './shutdown.ts';
export * from './queues.ts';
