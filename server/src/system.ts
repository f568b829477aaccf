import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '@glucoboard/core/config';
import {
  closeRedisClient,
  createMetricsRegistry,
  locateRedis,
  producerQueue,
  redisClient,
  redisPrefixFor,
  runStopStep,
  stopStep as step,
  type RedisEndpoint,
  type StopStep,
} from '@glucoboard/core/platform';
import { installationId, migrate, openDatabase, type Database } from '@glucoboard/core/storage';
import { escalationJobId, QUEUES } from '@glucoboard/core/wire';
import { startWorkers, type Workers } from '@glucoboard/workers';
import { createOidcLogin } from './access/oidc.ts';
import type { LiveAccess } from './api/context.ts';
import { apiRouter } from './api/index.ts';
import { createApp } from './app.ts';
import { ensureAdmin } from './bootstrap/admin.ts';
import { seedDemoClinic } from './bootstrap/demo.ts';
import { startDemoMeters } from './bootstrap/demo-meters.ts';
import { readiness } from './health.ts';
import { readingPipeline } from './ingest/pipeline.ts';
import { attachRealtime, type Realtime } from './realtime/index.ts';

export interface RunningSystem {
  /** http://host:port the server listens on. */
  url: string;
  db: Database;
  redis: RedisEndpoint;
  /** Every Redis key of this installation is under it (REDIS_PREFIX, or derived from the database). */
  redisPrefix: string;
  /** Socket.IO: the device and board namespaces. */
  realtime: Realtime;
  /** Graceful stop: refuse new work, finish what is in flight, close connections. */
  close(): Promise<void>;
}

/**
 * Starts everything one process runs: database (migrated), Redis, bootstrap data, the BullMQ
 * workers (unless they run apart) and the HTTP server. What is started is stopped in reverse.
 */
export async function startSystem(config: Config, log: Logger): Promise<RunningSystem> {
  const stops: StopStep[] = [];
  const stopAll = async () => {
    // Each step is bounded: one that hangs (e.g. on a Redis connection still reconnecting) is
    // logged by name and left behind, so the steps after it (the database last) still run.
    while (stops.length) await runStopStep(stops.pop()!, log);
  };
  try {
    const db = await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      log,
      applicationName: 'glucoboard-server',
    });
    stops.push(step('database', () => db.close()));
    const migration = await migrate(db, log);
    log.info({ backend: db.backend, variant: migration.variant, applied: migration.applied.length }, 'database ready');

    // Unset REDIS_PREFIX: this installation's own, from its database (see redisPrefixFor).
    const redisPrefix = redisPrefixFor(config.redisPrefix, await installationId(db.pool));
    const settings = { ...config, redisPrefix };
    const redis = await locateRedis({ redisUrl: config.redisUrl, dataDir: config.dataDir, log });
    stops.push(step('private redis-server', () => redis.stop()));
    const redisCommands = redisClient(redis, 'general', log);
    stops.push(step('redis commands connection', () => closeRedisClient(redisCommands)));
    log.info({ redis: redis.description, redisPrefix }, 'redis ready');

    await ensureAdmin(db, { ...config, log });
    if (config.demo) await seedDemoClinic(db, { dataDir: config.dataDir, log });

    const metrics = createMetricsRegistry('server');
    let workers: Workers | undefined;
    if (config.runWorkers) {
      workers = await startWorkers({ db, redis, settings, log, metrics });
      stops.push(step('workers', () => workers!.close()));
    }

    // A reading's way: device -> validation -> group commit -> ack -> evaluation and boards.
    const readings = readingPipeline({ db, redis, redisPrefix, config, metrics, log });
    stops.push(...readings.stops);

    // Acknowledging an alert cancels its pending escalation job.
    const escalations = producerQueue(QUEUES.escalation, redis, redisPrefix, log);
    stops.push(step('escalation queue', () => escalations.close()));
    const alerting = {
      async cancelEscalation(alertId: string) {
        await escalations
          .remove(escalationJobId(alertId))
          .catch((err: Error) =>
            log.warn({ err: err.message, alertId }, 'escalation not cancelled; it will find the alert taken'),
          );
      },
    };

    let shuttingDown = false;
    // Socket.IO attaches to the HTTP server once that exists; the API reaches it through this.
    let realtime: Realtime | undefined;
    const live: LiveAccess = {
      membershipChanged: (userId, teamId, member) => realtime?.membershipChanged(userId, teamId, member),
      sessionEnded: (sessionId) => realtime?.sessionEnded(sessionId),
      publishReadings: readings.committed,
      deviceCredentialsChanged: async (deviceId) => realtime?.deviceCredentialsChanged(deviceId),
    };
    const api = apiRouter({
      db,
      redis: redisCommands,
      redisPrefix,
      log,
      sessionPolicy: config.sessionPolicy,
      live,
      oidc: config.oidc && createOidcLogin(config.oidc),
      localLogin: config.localLogin,
      alerting,
      gateway: {
        authenticateDevice: async (credentials) => (realtime ? realtime.authenticateDevice(credentials) : null),
        ingest: readings.ingest,
      },
    });
    const app = createApp({
      metrics,
      api,
      log,
      trustProxy: config.trustProxy,
      readiness: () => readiness(db, redisCommands, shuttingDown),
    });
    const server = http.createServer(app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
    stops.push(
      step('http server', async () => {
        shuttingDown = true;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      }),
    );
    realtime = await attachRealtime({
      httpServer: server,
      db,
      redis,
      redisPrefix,
      log,
      metrics,
      sessionPolicy: config.sessionPolicy,
      boardSessionCheckMs: config.boardSessionCheckMs,
      onReadings: (device, payload) => readings.ingest(device, payload, 'socketio'),
    });
    readings.showOn(realtime);
    // Runs before the HTTP server's stop above: readiness turns 503, then sockets close.
    stops.push(
      step('realtime', async () => {
        shuttingDown = true;
        await realtime!.close();
      }),
    );
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
    if (config.demo) {
      // Stopped first: the meters say goodbye while the server still listens.
      const demoMeters = await startDemoMeters({ db, url, dataDir: config.dataDir, log });
      stops.push(step('demo meters', () => demoMeters.stop()));
    }
    log.info({ url, workers: Boolean(workers) }, 'glucoboard is up');
    return { url, db, redis, redisPrefix, realtime, close: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
