import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { ReadingsAck } from '../ingest/ingest.ts';
import type { IngestProtocol } from '../ingest/metrics.ts';
import { parseDeviceAuth } from '../realtime/device-auth.ts';
import {
  throttledMessage,
  type DeviceAdmission,
  type DeviceAttempt,
  type DeviceCredentials,
  type VerifiedDevice,
} from '../realtime/index.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

/**
 * `Authorization: Device <deviceId>:<token>`; a serial may hold ':', a token never does. The same
 * bounds as the handshake's `auth` (so no header buys a hash of a 16 KB token).
 */
export function parseDeviceAuthorization(header: string | undefined): DeviceCredentials | null {
  const match = /^Device\s+(.+):([^:\s]+)$/.exec(header?.trim() ?? '');
  return match ? parseDeviceAuth({ deviceId: match[1], token: match[2] }) : null;
}

export interface GatewayDependencies {
  /** Null while the device layer is not up yet. */
  authenticateDevice(attempt: DeviceAttempt): Promise<DeviceAdmission | null>;
  ingest(device: VerifiedDevice, payload: unknown, protocol: IngestProtocol): Promise<ReadingsAck>;
}

const STATUS: Record<string, number> = {
  INVALID_PAYLOAD: 400,
  BATCH_TOO_LARGE: 413,
  OVERLOADED: 503,
  UNAVAILABLE: 503,
};

type Refusal = { ok: false; code: string; message: string; retryAfterMs?: number };

/** A refused batch in the ack's shape, with Retry-After in seconds when the ack has retryAfterMs. */
function refuse(res: Response, status: number, ack: Refusal): void {
  if (ack.retryAfterMs !== undefined) res.set('retry-after', String(Math.ceil(ack.retryAfterMs / 1000)));
  res.status(status).json(ack);
}

/**
 * Before the People API's own JSON-only rule (415 in its error shape): a gateway's body that is
 * not declared JSON is a refused batch in the ack's shape, 415 INVALID_PAYLOAD.
 */
export const gatewayJsonOnly: RequestHandler = (req, res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (req.method === 'POST' && hasBody && !req.is('application/json')) {
    return refuse(res, 415, {
      ok: false,
      code: 'INVALID_PAYLOAD',
      message: 'send the batch as application/json: { "readings": [...] }',
    });
  }
  next();
};

/** A body that express.json could not read is a refused batch in the ack's own shape, not a generic error. */
export const gatewayJsonErrors: ErrorRequestHandler = (err: { type?: string; status?: number }, _req, res, next) => {
  if (err.type === 'entity.too.large') {
    refuse(res, 413, {
      ok: false,
      code: 'BATCH_TOO_LARGE',
      message: 'the body is larger than 1 MiB; send at most 500 readings per batch',
    });
  } else if (err.type === 'entity.parse.failed') {
    refuse(res, 400, { ok: false, code: 'INVALID_PAYLOAD', message: 'the body is not valid JSON' });
  } else if (err.type !== undefined && err.status !== undefined && err.status >= 400 && err.status < 500) {
    // An unsupported charset or content encoding, a request cut off: body-parser's own 4xx.
    refuse(res, err.status, { ok: false, code: 'INVALID_PAYLOAD', message: 'the body could not be read as JSON' });
  } else {
    next(err);
  }
};

const ackSchema = z.object({
  ok: z.boolean(),
  accepted: z.number().optional(),
  duplicates: z.number().optional(),
  rejected: z
    .array(
      z.object({
        index: z.number(),
        seq: z.number().nullable(),
        code: z.string(),
        message: z.string(),
        field: z.string().optional(),
      }),
    )
    .optional(),
  code: z.string().optional(),
  message: z.string().optional(),
  retryAfterMs: z.number().optional(),
});

/** Gateways that cannot speak Socket.IO: the `readings` event over HTTP, same body, same answer. */
export function gatewayRoutes(deps: Pick<ApiDependencies, 'gateway'>): RouteSpec[] {
  const gateway = deps.gateway;
  if (!gateway) return [];
  return [
    route({
      method: 'post',
      path: '/api/devices/readings',
      tag: 'devices',
      summary:
        'Readings from a gateway (Authorization: Device <deviceId>:<token>); body and answer as the Socket.IO readings event',
      signedIn: false,
      responses: {
        200: { description: 'Stored (see accepted, duplicates, rejected)', schema: ackSchema },
        400: { description: 'INVALID_PAYLOAD', schema: ackSchema },
        401: { description: 'DEVICE_AUTH: unknown or revoked device, or wrong token', schema: ackSchema },
        413: { description: 'BATCH_TOO_LARGE (more than 500 readings, or a body over 1 MiB)', schema: ackSchema },
        415: { description: 'INVALID_PAYLOAD: the body is not declared application/json', schema: ackSchema },
        429: {
          description:
            'OVERLOADED: too many failed authentications for this device or from this address; the token was not checked. Wait Retry-After',
          schema: ackSchema,
        },
        503: { description: 'OVERLOADED or UNAVAILABLE: send again after retryAfterMs', schema: ackSchema },
      },
      async handle({ req, res, origin }) {
        const credentials = parseDeviceAuthorization(req.get('authorization'));
        const admission = credentials ? await gateway.authenticateDevice({ ...credentials, source: origin }) : null;
        if (admission?.admitted === false && admission.reason === 'throttled') {
          const { retryAfterMs } = admission;
          res.set('retry-after', String(Math.ceil(retryAfterMs / 1000)));
          return {
            status: 429,
            body: { ok: false, code: 'OVERLOADED', message: throttledMessage(retryAfterMs), retryAfterMs },
          };
        }
        if (!admission?.admitted) {
          return {
            status: 401,
            body: { ok: false, code: 'DEVICE_AUTH', message: 'unknown or revoked device, or wrong token' },
          };
        }
        const ack = await gateway.ingest(admission.device, req.body, 'gateway');
        if (ack.ok) return { status: 200, body: ack };
        if (ack.retryAfterMs !== undefined) res.set('retry-after', String(Math.ceil(ack.retryAfterMs / 1000)));
        return { status: STATUS[ack.code] ?? 400, body: ack };
      },
    }),
  ];
}
