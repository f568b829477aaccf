import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fraction, helpText, parseOptions, wholeNumber, type OptionTable } from '../src/bench/options.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TABLE = {
  meters: { type: 'string', value: 'N', description: 'simulated CGMs', default: '2000' },
  'database-url': { type: 'string', value: 'URL', description: 'PostgreSQL' },
  'cpu-prof': { type: 'boolean', description: 'write V8 profiles' },
} as const satisfies OptionTable;
const ABOUT = { command: 'npm run bench --', summary: 'The bench.' };

describe('bench options: one table parses and prints help', () => {
  it('parses values and applies defaults', () => {
    const parsed = parseOptions(['--database-url', 'postgres://x', '--cpu-prof'], TABLE, ABOUT);
    expect(parsed).toEqual({
      kind: 'run',
      values: { meters: '2000', 'database-url': 'postgres://x', 'cpu-prof': true },
    });
  });

  it('answers --help with every option of the table, its value name and default', () => {
    const parsed = parseOptions(['--meters', '5', '--help'], TABLE, ABOUT);
    expect(parsed.kind).toBe('help');
    const text = (parsed as { text: string }).text;
    expect(text).toMatch(/^Usage: npm run bench -- \[options\]/);
    expect(text).toMatch(/--meters N +simulated CGMs \(default 2000\)/);
    expect(text).toMatch(/--database-url URL +PostgreSQL\n/);
    expect(text).toMatch(/--cpu-prof +write V8 profiles\n/);
    expect(text).toContain('--help');
    expect(text).toBe(helpText(ABOUT.command, ABOUT.summary, TABLE));
  });

  it('names an unknown option or a missing value, without a stack trace', () => {
    const unknown = parseOptions(['--metres', '5'], TABLE, ABOUT);
    expect(unknown.kind).toBe('usage');
    expect((unknown as { message: string }).message).toContain("'--metres'");
    expect((unknown as { message: string }).message).toContain('--help');
    expect(parseOptions(['--meters'], TABLE, ABOUT).kind).toBe('usage');
    expect(parseOptions(['stray'], TABLE, ABOUT).kind).toBe('usage');
  });

  it('takes whole numbers >= min only', () => {
    expect(wholeNumber('meters', '12', 1)).toBe(12);
    for (const bad of [undefined, '', ' ', 'x', '1.5', '0', '-3', 'Infinity']) {
      expect(wholeNumber('meters', bad, 1)).toEqual(expect.stringContaining('--meters must be a whole number >= 1'));
    }
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 5 }), (text, min) => {
        const answer = wholeNumber('n', text, min);
        if (typeof answer === 'number') {
          expect(Number.isInteger(answer) && answer >= min && Number(text) === answer).toBe(true);
        }
      }),
    );
  });

  it('takes fractions within bounds only', () => {
    expect(fraction('fraction', '0.25', 0, 1)).toBe(0.25);
    for (const bad of [undefined, '', 'NaN', '-0.1', '1.01', 'half']) {
      expect(typeof fraction('fraction', bad, 0, 1)).toBe('string');
    }
  });
});

describe('npm run bench as a command', () => {
  const bench = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'simulator/src/bench/main.ts', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });

  it("prints the read benchmark's options too", () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'simulator/src/bench/read/main.ts', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    for (const option of ['--backend', '--patients', '--fraction', '--days', '--boards', '--requests', '--keep']) {
      expect(run.stdout).toContain(option);
    }
  });

  it('prints the options for --help and exits 0, starting nothing', () => {
    const run = bench('--help');
    expect(run.status).toBe(0);
    for (const option of ['--profile', '--meters', '--steady-seconds', '--servers', '--workers', '--out', '--help']) {
      expect(run.stdout).toContain(option);
    }
    expect(run.stderr).toBe('');
  });

  it('refuses an unknown option or a bad value with a message and exit 2', () => {
    const unknown = bench('--metres', '10');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--metres'");
    expect(unknown.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const bad = bench('--profile', 'scale-out', '--servers', '1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--servers >= 2');
    const spec = bench('--profile', 'spec', '--servers', '2');
    expect(spec.status).toBe(2);
    expect(spec.stderr).toContain('--profile spec runs one server');
    const read = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'simulator/src/bench/read/main.ts', '--fraction', '2'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(read.status).toBe(2);
    expect(read.stderr).toContain('--fraction must be a number in');
  });
});
