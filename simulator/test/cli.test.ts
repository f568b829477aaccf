import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';

describe('npm run sim', () => {
  it('prints the options with --help and exits 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--meters N');
    expect(stdout).toContain('--malformed S');
  });

  it('exits 2 with a clear message for a bad argument', async () => {
    const { code, stderr, stdout } = await runCli(['--speed', 'fast', '--devices', 'x.json']);
    expect(code).toBe(2);
    expect(stderr).toContain('--speed fast: must be above 0');
    expect(stdout).toBe('');
  });

  it('exits 2 when the run would reach beyond what the server accepts, before touching the server', async () => {
    const { code, stderr } = await runCli(['--speed', '100000', '--duration', '2h', '--devices', 'x.json']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/further back than the server accepts readings \(90 days/);
  });

  it('exits 2 for a device file it cannot read', async () => {
    const { code, stderr } = await runCli(['--devices', '/nonexistent/devices.json', '--duration', '1s']);
    expect(code).toBe(2);
    expect(stderr).toContain('cannot read /nonexistent/devices.json');
  });
});
