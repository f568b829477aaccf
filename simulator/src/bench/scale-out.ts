import { io as connect } from 'socket.io-client';
import type { DeviceRecord } from '../device-file.ts';
import { log, profile, provision, signIn, steadyProfile } from './harness.ts';
import { runHypoProbes } from './hypo-probes.ts';
import { connectingLines, ms, percentiles, type Percentiles, type ProfileResult } from './report.ts';
import { startStack, type StackOptions } from './stack.ts';

/**
 * The scale-out profile: several server processes (RUN_WORKERS=0) and several workers processes on
 * one PostgreSQL database and one Redis prefix, as a deployment behind a load balancer. The load
 * meters are dealt over the servers; a real board client signed in on the FIRST server watches
 * everything; the hypo probes' meters send to the LAST server. What it proves: a board sees the
 * readings and alerts ingested by another server, each exactly once, and two workers evaluating
 * one outbox raise one alert per episode (0 lost, 0 stored twice, 0 duplicate alerts).
 */

export interface CrossServerDelivery {
  /** Readings newly stored through this server (acks), and their `reading` events on the board. */
  server: string;
  stored: number;
  shownOnBoard: number;
  /** Events beyond the first for one (patient, instant). */
  duplicateEvents: number;
}

export interface ScaleOutResult {
  servers: string[];
  workers: number;
  boardServer: string;
  probeServer: string;
  steady: ProfileResult;
  delivery: CrossServerDelivery[];
  probes: {
    probes: number;
    missingAlerts: number;
    duplicateAlertEvents: number;
    duplicateAlertRows: number;
    alertLatencyMs: Percentiles;
    readingLatencyMs: Percentiles;
    missingReadings: number;
    duplicateReadingEvents: number;
  };
  verdicts: Array<{ target: string; measured: string; pass: boolean }>;
}

export async function runScaleOut(options: {
  stackOptions: StackOptions;
  meters: number;
  probes: number;
  steadySeconds: number;
}): Promise<ScaleOutResult> {
  const stack = await startStack(options.stackOptions);
  try {
    const boardServer = stack.urls[0]!;
    const probeServer = stack.urls.at(-1)!;
    const load = await provision(stack, options.meters, 'LOAD');
    const probeDevices = await provision(stack, options.probes, 'PROBE');
    const session = await signIn(boardServer);
    const me = (await session.get('/api/me')) as { id: string };
    for (const teamId of new Set([load[0]!.teamId, probeDevices[0]!.teamId])) {
      await session.post(`/api/teams/${teamId}/members`, { userId: me.id, role: 'nurse' });
    }
    const watch = watchBoard(boardServer, session.cookie!, load);

    log(
      `scale-out steady: meters over ${stack.urls.length} servers, board on ${boardServer}, probes on ${probeServer}`,
    );
    let alerts: Awaited<ReturnType<typeof runHypoProbes>> | undefined;
    const steady = await profile(
      stack,
      load,
      { ...steadyProfile(options.steadySeconds), split: true },
      async (measuring) => {
        await measuring;
        alerts = await runHypoProbes({
          url: probeServer,
          boardUrl: boardServer,
          cookie: session.cookie!,
          devices: probeDevices,
          spacingMs: Math.max(100, ((options.steadySeconds - 15) * 1000) / options.probes),
        });
      },
    );
    // Live events trail the acks by a few ms; let the last ones arrive.
    await new Promise((r) => setTimeout(r, 2000));
    const seen = watch.stop();
    const duplicateAlertRows = await stack.pool.query<{ n: string }>(
      `select coalesce(sum(n - 1), 0) as n from (
         select count(*) as n from alerts where patient_id = any($1::uuid[]) and rule = 'urgent_low' group by patient_id
       ) x`,
      [probeDevices.map((d) => d.patientId)],
    );

    const delivery = (steady.perServer ?? []).map((share, i) => {
      const patients = new Set(load.filter((_, j) => j % stack.urls.length === i).map((d) => d.patientId));
      let shown = 0;
      let duplicateEvents = 0;
      for (const [key, count] of seen) {
        if (!patients.has(key.slice(0, key.indexOf(' ')))) continue;
        shown++;
        duplicateEvents += count - 1;
      }
      return { server: share.url, stored: share.accepted, shownOnBoard: shown, duplicateEvents };
    });
    const probes = {
      probes: alerts?.probes ?? 0,
      missingAlerts: alerts?.missing ?? options.probes,
      duplicateAlertEvents: alerts?.duplicateEvents ?? 0,
      duplicateAlertRows: Number(duplicateAlertRows.rows[0]!.n),
      alertLatencyMs: percentiles(alerts?.latenciesMs ?? []),
      readingLatencyMs: percentiles(alerts?.readingLatenciesMs ?? []),
      missingReadings: alerts?.missingReadings ?? 3 * options.probes,
      duplicateReadingEvents: alerts?.duplicateReadingEvents ?? 0,
    };
    const partial = {
      servers: stack.urls,
      workers: stack.workerProcesses.length,
      boardServer,
      probeServer,
      steady,
      delivery,
      probes,
    };
    return { ...partial, verdicts: scaleOutVerdicts(partial) };
  } finally {
    await stack.stop();
  }
}

/** Every `reading` event of the load meters' patients on one board socket, counted by (patient, instant). */
function watchBoard(url: string, cookie: string, devices: readonly DeviceRecord[]) {
  const patients = new Set(devices.map((d) => d.patientId));
  const seen = new Map<string, number>();
  const board = connect(`${url}/board`, { transports: ['websocket'], extraHeaders: { cookie }, forceNew: true });
  board.on('reading', (reading: { patientId: string; measuredAt: string }) => {
    if (!patients.has(reading.patientId)) return;
    const key = `${reading.patientId} ${new Date(reading.measuredAt).toISOString()}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  });
  return {
    stop() {
      board.disconnect();
      return seen;
    },
  };
}

export function scaleOutVerdicts(r: Omit<ScaleOutResult, 'verdicts'>): ScaleOutResult['verdicts'] {
  const crossShown = r.delivery.filter((d) => d.server !== r.boardServer);
  const missingCross = crossShown.reduce((n, d) => n + Math.max(0, d.stored - d.shownOnBoard), 0);
  const duplicateEvents = r.delivery.reduce((n, d) => n + d.duplicateEvents, 0) + r.probes.duplicateReadingEvents;
  return [
    {
      target: '0 lost, 0 stored twice, 0 changed',
      measured: `${r.steady.lost} / ${r.steady.duplicated} / ${r.steady.mismatched}`,
      pass: r.steady.lost + r.steady.duplicated + r.steady.mismatched === 0,
    },
    {
      target: '0 duplicate alerts (two workers on one outbox)',
      measured: `${r.probes.duplicateAlertEvents} events, ${r.probes.duplicateAlertRows} rows`,
      pass: r.probes.duplicateAlertEvents === 0 && r.probes.duplicateAlertRows === 0,
    },
    {
      target: `every probe's alert, ingested on ${r.probeServer}, on the board of ${r.boardServer}`,
      measured: `${r.probes.probes - r.probes.missingAlerts} of ${r.probes.probes}`,
      pass: r.probes.probes > 0 && r.probes.missingAlerts === 0,
    },
    {
      target: 'readings stored through the other servers shown on the board, each once',
      measured: `${crossShown.reduce((n, d) => n + d.shownOnBoard, 0)} of ${crossShown.reduce(
        (n, d) => n + d.stored,
        0,
      )} shown; probe readings missing ${r.probes.missingReadings}; duplicate events ${duplicateEvents}`,
      pass: missingCross === 0 && r.probes.missingReadings === 0 && duplicateEvents === 0,
    },
  ];
}

export function scaleOutMarkdown(
  r: ScaleOutResult & { startedAt: string; command: string; machine: { cpus: number; cpuModel: string } },
): string {
  const n = (x: number) => Math.round(x).toLocaleString('en');
  const p = (q: Percentiles) => `${ms(q.p50)} / ${ms(q.p95)} / ${ms(q.p99)}`;
  return [
    `Scale-out run ${r.startedAt} on ${r.machine.cpus} × ${r.machine.cpuModel}: ${r.servers.length} servers, ${r.workers} workers processes, one PostgreSQL database, one Redis prefix.`,
    '',
    `Command: \`${r.command}\``,
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    ...r.verdicts.map((v) => `| ${v.target} | ${v.measured} | ${v.pass ? 'pass' : '**miss**'} |`),
    '',
    '| server | meters | readings stored | readings/s | ack ms p50 / p95 / p99 | lost / stored twice | shown on the board (first server) | duplicate events |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...(r.steady.perServer ?? []).map((s, i) => {
      const d = r.delivery[i]!;
      return `| ${s.url}${s.url === r.boardServer ? ' (board)' : ''} | ${n(s.meters)} | ${n(s.accepted)} | ${n(
        s.readingsPerSecond,
      )} | ${p(s.ackMs)} | ${s.lost} / ${s.duplicated} | ${n(d.shownOnBoard)} | ${d.duplicateEvents} |`;
    }),
    '',
    ...connectingLines(r.steady),
    `Probes (meters on ${r.probeServer}, board on ${r.boardServer}), ${r.probes.probes}: hypo reading sent -> its \`reading\` event p50 / p95 / p99 ${p(
      r.probes.readingLatencyMs,
    )} ms; -> critical \`alert\` ${p(r.probes.alertLatencyMs)} ms; missing alerts ${r.probes.missingAlerts}, missing readings ${
      r.probes.missingReadings
    }; duplicate alert events ${r.probes.duplicateAlertEvents}, rows ${r.probes.duplicateAlertRows}.`,
    '',
    `All evaluated ${r.steady.evaluatedAfterMs === null ? 'not within the wait' : `${(r.steady.evaluatedAfterMs / 1000).toFixed(1)} s after the last ack`}. CPU cores on average: ${Object.entries(
      r.steady.cpuCores,
    )
      .map(([group, cores]) => `${group} ${cores.toFixed(2)}`)
      .join(', ')}.`,
    '',
  ].join('\n');
}
