import fs from 'node:fs/promises';

/**
 * Who used the machine's CPU during a profile, by group of processes, from Linux /proc.
 *
 * Summing only the live processes' own time (utime + stime) undercounts whatever exits during a
 * profile: a PostgreSQL backend that closes between the two samples takes its seconds with it, so
 * the group's total can fall and its share come out negative (PostgreSQL showed -0.09 in steady).
 * The kernel does not lose that time: when a parent reaps a child it adds the child's own and
 * children's time to its cutime + cstime. So each process counts utime + stime + cutime + cstime,
 * and a group's total is conserved when its processes exit, as long as the parent that reaps them
 * (the postmaster for its backends) belongs to the same group. A process reparented to init and
 * reaped there moves its time to init's group ('other').
 */

export const CPU_GROUPS = ['simulator', 'server', 'workers', 'postgres', 'redis', 'other'] as const;
export type CpuGroup = (typeof CPU_GROUPS)[number];
export type CpuShares = Record<CpuGroup, number>;

export interface ProcessTimes {
  pid: number;
  comm: string;
  /** utime + stime: the process's own CPU, in clock ticks. */
  ownTicks: number;
  /** cutime + cstime: children it has reaped (and theirs), in clock ticks. */
  reapedTicks: number;
}

/** One /proc/<pid>/stat line. The command name may hold spaces and parentheses: split at the last ')'. */
export function parseProcStat(line: string): ProcessTimes {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc stat line: ${line.slice(0, 60)}`);
  const fields = line.slice(close + 2).split(' ');
  // After the name, fields[0] is field 3 (state); utime .. cstime are fields 14 .. 17.
  const at = (field: number) => Number(fields[field - 3]);
  return {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    ownTicks: at(14) + at(15),
    reapedTicks: at(16) + at(17),
  };
}

/** The group's total CPU seconds now, each process counted with the children it has reaped. */
export function groupSeconds(
  processes: readonly ProcessTimes[],
  groupOf: (p: ProcessTimes) => CpuGroup,
  ticksPerSecond = 100, // USER_HZ on Linux
): CpuShares {
  const totals = Object.fromEntries(CPU_GROUPS.map((g) => [g, 0])) as CpuShares;
  for (const p of processes) totals[groupOf(p)] += (p.ownTicks + p.reapedTicks) / ticksPerSecond;
  return totals;
}

/** Cores used on average between two samples, per group. */
export function coresBetween(before: CpuShares, after: CpuShares, wallSeconds: number): CpuShares {
  return Object.fromEntries(CPU_GROUPS.map((g) => [g, (after[g] - before[g]) / wallSeconds])) as CpuShares;
}

/** Every process's times now (those that vanish while being read are skipped: they were reaped). */
export async function readProcesses(): Promise<ProcessTimes[]> {
  const found: ProcessTimes[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      found.push(parseProcStat(await fs.readFile(`/proc/${entry}/stat`, 'utf8')));
    } catch {
      continue; // gone meanwhile
    }
  }
  return found;
}

/**
 * The bench's grouping: this process is the simulator, the named pids the server and workers
 * processes (several of each in the scale-out profile), PostgreSQL and Redis by command name.
 */
export function benchGroups(roles: { server: readonly number[]; workers: readonly number[] }) {
  const server = new Set(roles.server);
  const workers = new Set(roles.workers);
  return (p: ProcessTimes): CpuGroup =>
    p.pid === process.pid
      ? 'simulator'
      : server.has(p.pid)
        ? 'server'
        : workers.has(p.pid)
          ? 'workers'
          : p.comm.startsWith('postgres')
            ? 'postgres'
            : p.comm.startsWith('redis')
              ? 'redis'
              : 'other';
}
