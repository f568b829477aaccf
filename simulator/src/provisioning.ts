import type { DeviceRecord } from './device-file.ts';
import { kindOf, type DeviceProfile } from './patient.ts';

/**
 * Creates meters through the People API, as a sysadmin or team admin would: sign in, one team,
 * then a patient and a paired device per meter (POST /api/patients, POST /api/devices), whose
 * one-time token the server returns. The server hashes each token with argon2, tens of ms of CPU
 * per device, so requests run a few at a time rather than all at once.
 */
export interface ProvisionOptions {
  url: string;
  email: string;
  password: string;
  meters: number;
  profile: DeviceProfile;
  seed: number;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** The team's name (default: "Simulator <tag>"). */
  teamName?: string;
  /** Makes serials unique across runs (default: the time in base 36). */
  tag?: string;
  onProgress?: (done: number, total: number) => void;
}

export class ProvisioningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvisioningError';
  }
}

export async function provisionMeters(options: ProvisionOptions): Promise<DeviceRecord[]> {
  const tag = options.tag ?? Date.now().toString(36).toUpperCase();
  const api = await AdminSession.signIn(options.url, options.email, options.password);
  const team = await api.post<{ id: string }>('/api/teams', { name: options.teamName ?? `Simulator ${tag}` });
  const devices: DeviceRecord[] = new Array(options.meters);
  let done = 0;
  await inParallel(options.meters, options.concurrency ?? 8, async (i) => {
    const kind = kindOf(options.profile, i, options.seed);
    const patient = await api.post<{ id: string }>('/api/patients', {
      name: `Simulated patient ${i + 1} (${tag})`,
      teamId: team.id,
    });
    const serial = `SIM-${tag}-${kind.toUpperCase()}-${String(i + 1).padStart(5, '0')}`;
    const device = await api.post<{ deviceId: string; token: string }>('/api/devices', {
      serial,
      kind,
      patientId: patient.id,
    });
    devices[i] = {
      deviceId: device.deviceId,
      token: device.token,
      kind,
      patientId: patient.id,
      teamId: team.id,
      nextSeq: 0,
    };
    options.onProgress?.(++done, options.meters);
  });
  return devices;
}

/** Runs task(0..count-1) with at most `limit` running at once; the first failure fails the whole. */
export async function inParallel(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < count) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}

/** A signed-in session against the People API (the session cookie, as a browser keeps it). */
class AdminSession {
  readonly #base: string;
  readonly #cookie: string;

  private constructor(base: string, cookie: string) {
    this.#base = base;
    this.#cookie = cookie;
  }

  static async signIn(url: string, email: string, password: string): Promise<AdminSession> {
    const base = url.replace(/\/+$/, '');
    const response = await request(`${base}/api/auth/login`, { email, password });
    if (response.status !== 200) {
      throw new ProvisioningError(`sign-in as ${email} failed: ${response.status} ${await errorText(response)}`);
    }
    const cookie = response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    if (!cookie) throw new ProvisioningError('the server signed in but set no session cookie');
    return new AdminSession(base, cookie);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    const response = await request(`${this.#base}${path}`, body, { cookie: this.#cookie });
    if (response.status !== 201) {
      throw new ProvisioningError(`POST ${path} answered ${response.status} ${await errorText(response)}`);
    }
    return (await response.json()) as T;
  }
}

async function request(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  try {
    return await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new ProvisioningError(`cannot reach ${url}: ${(err as Error).message}`);
  }
}

async function errorText(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error) return `${body.error.code ?? ''}: ${body.error.message ?? ''}`;
  } catch {
    // not JSON: show the start of the text
  }
  return text.slice(0, 200);
}
