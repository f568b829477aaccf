import type { MeterStatusView } from '@glucoboard/core/wire';
import { ApiError, errorOf, query, request } from '$lib/api/http';
import { deviceAuthorization, type MeterCredential } from './credential';
import { SendFailure, type BatchAck, type OutboxEntry } from './outbox';

/**
 * The meter page's calls: the nurse's (session cookie, /api/patients/:id/meter...) and the
 * patient phone's (its device credential: the gateway and the device's high-water mark).
 */

export const meterStatus = (patientId: string, serial: string) =>
  request<MeterStatusView>('GET', `/api/patients/${encodeURIComponent(patientId)}/meter${query({ serial })}`);

export const pairMeter = (patientId: string, serial: string) =>
  request<MeterStatusView>('POST', `/api/patients/${encodeURIComponent(patientId)}/meter/pair`, { serial });

/** The highest seq Glucoboard holds for the phone's meter. */
export async function deviceHighWater(
  credential: MeterCredential,
  fetcher: typeof fetch = fetch,
): Promise<number | null> {
  const response = await fetcher('/api/devices/me/high-water', {
    headers: { accept: 'application/json', authorization: deviceAuthorization(credential) },
    credentials: 'omit',
  });
  const body = (await response.json().catch(() => undefined)) as { highWaterSeq?: number | null } | undefined;
  if (!response.ok) throw errorOf(response.status, body);
  return body?.highWaterSeq ?? null;
}

/** Offline, busy, signed out meanwhile: keep the batch and send it later. Anything else: refused. */
const RETRY_STATUSES = new Set([0, 401, 408, 429, 500, 502, 503, 504]);

/** Sends one outbox batch on its channel; the answer is the device ack. */
export async function sendBatch(
  entry: OutboxEntry,
  credentialOf: (deviceId: string) => MeterCredential | null,
  fetcher: typeof fetch = fetch,
): Promise<BatchAck> {
  if (entry.channel.kind === 'nurse') {
    try {
      return await request<BatchAck>(
        'POST',
        `/api/patients/${encodeURIComponent(entry.channel.patientId)}/meter/readings`,
        { serial: entry.serial, readings: entry.readings },
        { fetcher, redirectOn401: false },
      );
    } catch (err) {
      throw failure(err);
    }
  }
  const credential = credentialOf(entry.channel.deviceId);
  if (!credential) throw new SendFailure('refused', 'DEVICE_AUTH', 'this phone is no longer paired with the meter');
  let response: Response;
  try {
    response = await fetcher('/api/devices/readings', {
      method: 'POST',
      credentials: 'omit',
      headers: { 'content-type': 'application/json', authorization: deviceAuthorization(credential) },
      body: JSON.stringify({ readings: entry.readings }),
    });
  } catch (err) {
    throw new SendFailure('retry', 'NETWORK', err instanceof Error ? err.message : 'network error');
  }
  const ack = (await response.json().catch(() => undefined)) as
    | (BatchAck | { ok: false; code: string; message: string })
    | undefined;
  if (response.ok && ack?.ok) return ack;
  const code = ack && !ack.ok ? ack.code : `HTTP_${response.status}`;
  const message = ack && !ack.ok ? ack.message : `HTTP ${response.status}`;
  // DEVICE_AUTH is a revoked or replaced token: resending the same one cannot succeed.
  throw new SendFailure(
    RETRY_STATUSES.has(response.status) && code !== 'DEVICE_AUTH' ? 'retry' : 'refused',
    code,
    message,
  );
}

function failure(err: unknown): SendFailure {
  if (err instanceof ApiError)
    return new SendFailure(RETRY_STATUSES.has(err.status) ? 'retry' : 'refused', err.code, err.message);
  return new SendFailure('retry', 'NETWORK', err instanceof Error ? err.message : 'network error');
}
