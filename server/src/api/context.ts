import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Database } from '@glucoboard/core/storage';
import type { SessionPolicy } from '../access/sessions.ts';

/** What the API's routes need from the running system. */
export interface ApiDependencies {
  db: Database;
  redis: Redis;
  redisPrefix: string;
  log: Logger;
  sessionPolicy: SessionPolicy;
  /** Live effects of access changes on open sockets (set once Socket.IO is attached). */
  live: LiveAccess;
}

export interface LiveAccess {
  membershipChanged(userId: string, teamId: string, member: boolean): void;
  deviceCredentialsChanged(deviceId: string): Promise<void>;
}
