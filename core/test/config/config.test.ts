import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { configFailure } from '../support/config.ts';

const failure = configFailure;

describe('configuration from the environment', () => {
  it('defaults to the embedded database, local Redis, port 3000 and the demo clinic', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
      redisUrl: undefined,
      demo: true,
      runWorkers: true,
    });
    expect(config.dataDir).toMatch(/\.data$/);
  });

  it('turns the demo off by default with a PostgreSQL server, and on with DEMO=1', () => {
    const server = { DATABASE_URL: 'postgres://db.example:5432/glucoboard' };
    expect(loadConfig(server).demo).toBe(false);
    expect(loadConfig({ ...server, DEMO: '1' }).demo).toBe(true);
    expect(loadConfig({ DEMO: '0' }).demo).toBe(false);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 3000, databaseUrl: undefined });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ ADMIN_EMAIL: 'not-an-address', ADMIN_PASSWORD: 'long enough password' }, 'ADMIN_EMAIL'],
    [{ ADMIN_EMAIL: 'a@b.se', ADMIN_PASSWORD: 'short' }, 'ADMIN_PASSWORD'],
    [{ ADMIN_EMAIL: 'a@b.se' }, 'ADMIN_PASSWORD'],
    [{ ADMIN_PASSWORD: 'long enough password' }, 'ADMIN_EMAIL'],
    [{ DEMO: 'maybe' }, 'DEMO'],
    [{ RUN_WORKERS: '0' }, 'RUN_WORKERS'],
    [{ AUDIT_RETENTION_DAYS: '30' }, 'AUDIT_RETENTION_DAYS'],
    [{ READING_RETENTION_DAYS: '-1' }, 'READING_RETENTION_DAYS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('names the bad variable: %o', (env, variable) => {
    const err = failure(env);
    expect(err?.variable).toBe(variable);
    expect(err?.message).toMatch(new RegExp(`^${variable}: .+`));
  });

  it('accepts every valid port and refuses everything else, naming PORT', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), (port) => loadConfig({ PORT: String(port) }).port === port),
    );
    fc.assert(
      fc.property(
        // Anything but digits (within the range) is refused, including what Number() would take: 1e3, 0x10, 0.
        fc
          .oneof(fc.string({ minLength: 1 }), fc.constantFrom('1e3', '0x10', '0.', '8080.0', '+80', '-1', '65536'))
          .filter((s) => !/^\s*\d+\s*$/.test(s) || Number(s) > 65535),
        (text) => failure({ PORT: text })?.variable === 'PORT',
      ),
    );
  });
});
