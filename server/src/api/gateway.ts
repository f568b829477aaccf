import type { ErrorRequestHandler } from 'express';
import { z } from 'zod';
import type { ReadingsAck } from '../ingest/ingest.ts';
import type { DeviceCredentials, VerifiedDevice } from '../realtime/index.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

/** `Authorization: Device <deviceId>:<token>`; a serial may hold ':', a token never does. */
export function parseDeviceAuthorization(header: string | undefined): DeviceCredentials | null {
  const match = /^Device\s+(.+):([^:\s]+)$/.exec(header?.trim() ?? '');
  return match ? { deviceId: match[1]!, token: match[2]! } : null;
}

export interface GatewayDependencies {
  authenticateDevice(credentials: DeviceCredentials): Promise<VerifiedDevice | null>;
  ingest(device: VerifiedDevice, payload: unknown): Promise<ReadingsAck>;
}

const STATUS: Record<string, number> = {
  INVALID_PAYLOAD: 400,
  BATCH_TOO_LARGE: 413,
  OVERLOADED: 503,
  UNAVAILABLE: 503,
};

/** A body that is not JSON is a refused batch in the ack's own shape, not a generic error. */
export const gatewayJsonErrors: ErrorRequestHandler = (err: { type?: string }, _req, res, next) => {
  if (err.type === 'entity.parse.failed') {
    res.status(400).json({ ok: false, code: 'INVALID_PAYLOAD', message: 'the body is not valid JSON' });
  } else if (err.type === 'entity.too.large') {
    res.status(413).json({ ok: false, code: 'BATCH_TOO_LARGE', message: 'the body is too large' });
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
        413: { description: 'BATCH_TOO_LARGE (more than 500 readings)', schema: ackSchema },
        503: { description: 'OVERLOADED or UNAVAILABLE: send again after retryAfterMs', schema: ackSchema },
      },
      async handle({ req, res }) {
        const credentials = parseDeviceAuthorization(req.get('authorization'));
        const device = credentials ? await gateway.authenticateDevice(credentials) : null;
        if (!device) {
          return {
            status: 401,
            body: { ok: false, code: 'DEVICE_AUTH', message: 'unknown or revoked device, or wrong token' },
          };
        }
        const ack = await gateway.ingest(device, req.body);
        if (ack.ok) return { status: 200, body: ack };
        if (ack.retryAfterMs !== undefined) res.set('retry-after', String(Math.ceil(ack.retryAfterMs / 1000)));
        return { status: STATUS[ack.code] ?? 400, body: ack };
      },
    }),
  ];
}
