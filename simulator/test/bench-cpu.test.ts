import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  benchGroups,
  coresBetween,
  groupSeconds,
  parseProcStat,
  readProcesses,
  type ProcessTimes,
} from '../src/bench/cpu.ts';

// A real /proc/<pid>/stat line shape; fields 14..17 are utime, stime, cutime, cstime.
const statLine = (pid: number, comm: string, utime: number, stime: number, cutime: number, cstime: number) =>
  `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194560 1000 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 500 100000000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0`;

describe('bench CPU accounting', () => {
  it('reads own and reaped ticks, whatever the command name holds', () => {
    expect(parseProcStat(statLine(42, 'postgres: bench glucoboard (idle) ) x', 7, 3, 100, 20))).toEqual({
      pid: 42,
      comm: 'postgres: bench glucoboard (idle) ) x',
      ownTicks: 10,
      reapedTicks: 120,
    });
    expect(() => parseProcStat('garbage')).toThrow();
  });

  it('never lets a group shrink when its processes exit between samples (the -0.09 of PostgreSQL)', () => {
    const groupOf = benchGroups({ server: [10], workers: [11] });
    const postmaster = (reaped: number): ProcessTimes => ({
      pid: 100,
      comm: 'postgres',
      ownTicks: 50,
      reapedTicks: reaped,
    });
    const backend = (pid: number, own: number): ProcessTimes => ({
      pid,
      comm: 'postgres',
      ownTicks: own,
      reapedTicks: 0,
    });
    // Before: two backends have used 900 ticks. Between the samples both work 100 more, then one
    // exits and the postmaster reaps it (its 600 ticks move to the postmaster's cutime + cstime).
    const before = groupSeconds([postmaster(0), backend(101, 500), backend(102, 400)], groupOf);
    const after = groupSeconds([postmaster(600), backend(102, 500)], groupOf);
    const cores = coresBetween(before, after, 1);
    expect(cores.postgres).toBeCloseTo(2.0, 5); // 200 ticks of work in 1 s: never negative
    // Own time alone, as the table used to count, comes out negative here.
    const ownOnly = (ps: ProcessTimes[]) => ps.reduce((n, p) => n + p.ownTicks, 0) / 100;
    expect(
      ownOnly([postmaster(600), backend(102, 500)]) - ownOnly([postmaster(0), backend(101, 500), backend(102, 400)]),
    ).toBeLessThan(0);
  });

  it('groups the bench process, servers, workers, PostgreSQL and Redis', () => {
    const groupOf = benchGroups({ server: [10, 12], workers: [11, 13] });
    const p = (pid: number, comm: string): ProcessTimes => ({ pid, comm, ownTicks: 1, reapedTicks: 0 });
    expect(
      [
        p(process.pid, 'node'),
        p(10, 'node'),
        p(12, 'node'),
        p(13, 'node'),
        p(7, 'postgres'),
        p(8, 'redis-server'),
        p(9, 'bash'),
      ].map(groupOf),
    ).toEqual(['simulator', 'server', 'server', 'workers', 'postgres', 'redis', 'other']);
  });

  it("counts a child that ran and exited between two real samples in its parent's group", async () => {
    const mine = (ps: ProcessTimes[]) => ps.find((p) => p.pid === process.pid)!;
    const before = mine(await readProcesses());
    // A child burns half a second of its own CPU (however busy the machine), exits and is reaped.
    const burn = 'while (process.cpuUsage().user + process.cpuUsage().system < 500000);';
    const child = spawnSync(process.execPath, ['-e', burn]);
    expect(child.status).toBe(0);
    const after = mine(await readProcesses());
    expect((after.reapedTicks - before.reapedTicks) / 100).toBeGreaterThan(0.45);
    const groupOf = benchGroups({ server: [], workers: [] });
    const delta = groupSeconds([after], groupOf).simulator - groupSeconds([before], groupOf).simulator;
    expect(delta).toBeGreaterThan(0.45);
  });
});
