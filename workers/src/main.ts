import http from 'node:http';
import { ConfigError, loadConfig } from '@glucoboard/core/config';
import {
  createLogger,
  createMetricsRegistry,
  locateRedis,
  RedisUnavailableError,
  redisPrefixFor,
  runStopStep,
  stopStep,
} from '@glucoboard/core/platform';
import { installationId, migrate, openDatabase } from '@glucoboard/core/storage';
import { startWorkers } from './index.ts';

/**
 * The workers as their own process (docker compose, or more machines). They need a PostgreSQL
 * server: the embedded database takes one connection, so it runs its workers inside the server.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig({ ...process.env, RUN_WORKERS: '1' });
    if (config.databaseUrl === undefined)
      throw new ConfigError(
        'DATABASE_URL',
        'the workers process needs a PostgreSQL server; without one, `npm start` runs the workers itself',
      );
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`glucoboard-workers: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, 'glucoboard-workers');
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    log,
    applicationName: 'glucoboard-workers',
  });
  await migrate(db, log);
  let redis;
  try {
    redis = await locateRedis({ redisUrl: config.redisUrl, dataDir: config.dataDir, log });
  } catch (err) {
    if (err instanceof RedisUnavailableError) {
      process.stderr.write(`glucoboard-workers: ${err.message}\n`);
      process.exit(3);
    }
    throw err;
  }
  const metrics = createMetricsRegistry('workers');
  // The same prefix as the server on this database (REDIS_PREFIX, or derived from the database).
  const redisPrefix = redisPrefixFor(config.redisPrefix, await installationId(db.pool));
  const workers = await startWorkers({ db, redis, settings: { ...config, redisPrefix }, log, metrics });

  // Liveness and metrics for the orchestrator; no patient data is served here.
  const port = Number(process.env.WORKER_HEALTH_PORT ?? 3001);
  const health = http.createServer(async (req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.contentType }).end(await metrics.metrics());
    } else {
      res.writeHead(404).end();
    }
  });
  health.listen(port, config.host);
  log.info({ port, redisPrefix }, 'workers running');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'shutting down workers');
    // Bounded step by step, as in the server: a hung step is logged and the stop goes on.
    const steps = [
      stopStep('health endpoint', async () => {
        await new Promise<void>((resolve) => {
          health.close(() => resolve());
          health.closeIdleConnections();
        });
      }),
      stopStep('workers', () => workers.close()),
      stopStep('private redis-server', () => redis.stop()),
      stopStep('database', () => db.close()),
    ];
    for (const step of steps) await runStopStep(step, log);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

await main();
