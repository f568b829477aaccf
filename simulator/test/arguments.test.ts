import { describe, expect, it } from 'vitest';
import { parseArguments, UsageError } from '../src/arguments.ts';
import { formatDuration, parseDuration } from '../src/durations.ts';

const ADMIN = ['--admin-email', 'a@example.se', '--admin-password', 'secret'];

describe('command line', () => {
  it('reads the documented example', () => {
    const args = parseArguments([
      '--meters',
      '5000',
      '--profile',
      'cgm',
      '--speed',
      '60',
      '--duration',
      '10m',
      '--url',
      'http://127.0.0.1:3000',
      '--seed',
      '42',
      '--connect-first',
      '3m',
      ...ADMIN,
    ]);
    expect(args).toMatchObject({
      meters: 5000,
      profile: 'cgm',
      speed: 60,
      durationMs: 600_000,
      url: 'http://127.0.0.1:3000',
      seed: 42,
      connectFirstMs: 180_000,
      adminEmail: 'a@example.se',
    });
  });

  it('has defaults, and takes admin credentials from the environment', () => {
    const args = parseArguments([], { ADMIN_EMAIL: 'env@example.se', ADMIN_PASSWORD: 'pw' });
    expect(args).toMatchObject({
      profile: 'mixed',
      speed: 1,
      durationMs: undefined,
      connectFirstMs: undefined,
      seed: 42,
      malformedShare: 0,
      maxBatch: 500,
      adminEmail: 'env@example.se',
      adminPassword: 'pw',
    });
    expect(
      parseArguments(['--admin-email', 'cli@example.se', ...ADMIN.slice(2)], { ADMIN_EMAIL: 'env@example.se' })
        .adminEmail,
    ).toBe('cli@example.se');
  });

  it.each([
    [['--meters', '0'], /--meters 0: must be a whole number/],
    [['--meters', '12.5'], /--meters/],
    [['--profile', 'pump'], /--profile pump: must be bgm, cgm or mixed/],
    [['--speed', '-1'], /--speed/],
    [['--speed', 'fast'], /--speed/],
    [['--duration', '10'], /--duration 10: must be a duration such as/],
    [['--duration', 'ten minutes'], /--duration/],
    [['--malformed', '0.7'], /--malformed 0.7: must be a share between 0 and 0.5/],
    [['--lost-acks', '2'], /--lost-acks/],
    [['--batch', '501'], /--batch 501/],
    [['--url', 'ftp://example.se'], /--url/],
    [['--backoff-base', '10s', '--backoff-cap', '1s'], /--backoff-cap/],
    [['--ack-timeout', '0'], /--ack-timeout must be longer than 0/],
    [['--connect-first', '0'], /--connect-first must be longer than 0/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--meters'], /--meters/],
    [['stray'], /positional/],
  ])('refuses %j with a message naming the option', (argv, message) => {
    expect(() => parseArguments([...argv, ...ADMIN])).toThrow(UsageError);
    expect(() => parseArguments([...argv, ...ADMIN])).toThrow(message);
  });

  it('needs a way to get meters', () => {
    expect(() => parseArguments([])).toThrow(/--devices FILE, or admin credentials/);
    expect(parseArguments(['--devices', 'demo-devices.json']).devicesFile).toBe('demo-devices.json');
  });

  it('needs DATABASE_URL to verify or to carry seqs on', () => {
    expect(() => parseArguments(['--verify', ...ADMIN])).toThrow(
      /--verify reads the server's database: set DATABASE_URL/,
    );
    expect(() => parseArguments(['--continue-seqs', '--devices', 'd.json'])).toThrow(/--continue-seqs .*DATABASE_URL/);
    expect(parseArguments(['--verify', ...ADMIN], { DATABASE_URL: 'postgres://x/y' }).verify).toBe(true);
  });
});

describe('durations', () => {
  it('reads and writes the usual units', () => {
    expect(['0', '500ms', '30s', '1.5s', '10m', '12h', '2d'].map(parseDuration)).toEqual([
      0, 500, 30_000, 1500, 600_000, 43_200_000, 172_800_000,
    ]);
    expect(['', '10', '-5s', '5 m', '1w', 's'].map(parseDuration)).toEqual(Array(6).fill(undefined));
    expect([950, 12_500, 600_000, 12_000_000].map(formatDuration)).toEqual(['950ms', '12.5s', '10m', '3h20m']);
  });
});
