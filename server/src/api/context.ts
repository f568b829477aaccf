import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Database } from '@glucoboard/core/storage';
import type { BoardReading } from '@glucoboard/core/wire';
import type { OidcLogin } from '../access/oidc.ts';
import type { SessionPolicy } from '../access/sessions.ts';
import type { GatewayDependencies } from './gateway.ts';

/** What the API's routes need from the running system. */
export interface ApiDependencies {
  db: Database;
  redis: Redis;
  redisPrefix: string;
  log: Logger;
  sessionPolicy: SessionPolicy;
  /** Live effects of access changes on open sockets (set once Socket.IO is attached). */
  live: LiveAccess;
  /** Sign-in through an OpenID Connect provider (e.g. SITHS eID), when configured. */
  oidc?: OidcLogin;
  /** false: password sign-in is switched off (OIDC only). */
  localLogin?: boolean;
  /** Device readings over HTTP (gateways). */
  gateway?: GatewayDependencies;
  /** The alert workers' queues, as far as the API acts on them. */
  alerting?: { cancelEscalation(alertId: string): Promise<void> };
}

export interface LiveAccess {
  membershipChanged(userId: string, teamId: string, member: boolean): void;
  sessionEnded(sessionId: string): void;
  /** Committed readings to the responsible team's boards. */
  publishReadings(readings: readonly BoardReading[]): void;
  deviceCredentialsChanged(deviceId: string): Promise<void>;
}
