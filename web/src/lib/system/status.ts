/**
 * Reads the server's operational endpoints: `/healthz` (the process is up) and `/readyz` (the
 * database and Redis are reachable). Any answer that is not understood counts as a failure, and
 * an unready server still reports which of its checks failed.
 */

export type CheckState = { ok: true } | { ok: false; detail: string };

export type SystemState = 'ready' | 'unready' | 'down';

export interface SystemStatus {
  state: SystemState;
  /** Whether `/healthz` answered with a success status. */
  live: boolean;
  checks: { database: CheckState | null; redis: CheckState | null };
  checkedAt: Date;
}

export interface ReadyzBody {
  status: 'ready' | 'unready';
  checks: { database: 'ok' | string; redis: 'ok' | string };
}

export const REQUEST_TIMEOUT_MS = 5_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A `/readyz` body, or null when the answer does not have the agreed shape. */
export function parseReadyz(body: unknown): ReadyzBody | null {
  if (!isRecord(body) || (body.status !== 'ready' && body.status !== 'unready')) return null;
  const checks = isRecord(body.checks) ? body.checks : {};
  const database = typeof checks.database === 'string' ? checks.database : '';
  const redis = typeof checks.redis === 'string' ? checks.redis : '';
  return { status: body.status, checks: { database, redis } };
}

function checkState(value: string): CheckState | null {
  if (value === '') return null;
  return value === 'ok' ? { ok: true } : { ok: false, detail: value };
}

async function request(fetcher: typeof fetch, path: string): Promise<Response | null> {
  try {
    return await fetcher(path, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    return null;
  }
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** Ask both endpoints at once and combine their answers. Never throws. */
export async function fetchSystemStatus(fetcher: typeof fetch = fetch): Promise<SystemStatus> {
  const [health, ready] = await Promise.all([request(fetcher, '/healthz'), request(fetcher, '/readyz')]);
  const live = health?.ok ?? false;
  // `/readyz` answers 503 with the same body when unready, so read the body whatever the status.
  const readyz = ready ? parseReadyz(await readJson(ready)) : null;
  const checks = {
    database: readyz ? checkState(readyz.checks.database) : null,
    redis: readyz ? checkState(readyz.checks.redis) : null,
  };
  let state: SystemState;
  if (!live && !readyz) state = 'down';
  else if (live && ready?.ok && readyz?.status === 'ready') state = 'ready';
  else state = 'unready';
  return { state, live, checks, checkedAt: new Date() };
}
