import { formatDuration } from './durations.ts';
import type { Progress } from './simulation.ts';

const count = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)}ms` : '-');
const codes = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([code, n]) => `${code} ${count(n)}`)
    .join(', ');

/** The one-line live view of a run, for stderr each second. */
export function formatProgress(p: Progress): string {
  const parts = [
    `${formatDuration(p.elapsedMs).padStart(6)} ${p.phase}`,
    `sim ${new Date(p.simulatedAt).toISOString().slice(0, 16)}Z`,
    `connected ${count(p.connected)}/${count(p.meters)}`,
    `sent ${count(p.sent)}`,
    `acked ${count(p.accepted + p.duplicates)} (dup ${count(p.duplicates)})`,
  ];
  if (Object.keys(p.rejected).length > 0) parts.push(`rejected ${codes(p.rejected)}`);
  if (Object.keys(p.refusedBatches).length > 0) parts.push(`refused ${codes(p.refusedBatches)}`);
  parts.push(
    `pending ${count(p.pending)}`,
    `${count(p.ratePerSecond)}/s`,
    `ack p50 ${ms(p.ackP50Ms)} p99 ${ms(p.ackP99Ms)}`,
  );
  return parts.join(' | ');
}
