import { ConfigError, loadConfig } from '@glucoboard/core/config';
import { createLogger, RedisUnavailableError } from '@glucoboard/core/platform';
import { startSystem } from './system.ts';

/** `npm start`: the whole system in one process (server, workers, web app). */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`glucoboard: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  // Listening for signals before the start: a SIGTERM while the system is still starting (it
  // answers /readyz before the demo meters are up) waits for the start, then stops it cleanly.
  let system: Awaited<ReturnType<typeof startSystem>> | undefined;
  let stopping: string | undefined;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = signal;
    if (system) shutDown(system, signal);
  };
  const shutDown = (running: NonNullable<typeof system>, signal: string) => {
    log.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      log.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    deadline.unref();
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    system = await startSystem(config, log);
  } catch (err) {
    if (err instanceof RedisUnavailableError) {
      process.stderr.write(`glucoboard: ${err.message}\n`);
      process.exit(3);
    }
    log.fatal({ err }, 'could not start');
    process.exit(1);
  }
  if (stopping) shutDown(system, stopping);
}

await main();
