import type { Router } from 'express';
import type { ApiDependencies } from '../api/context.ts';
import { DeviceAuthThrottle, RedisFailureCounter } from '../realtime/auth-throttle.ts';
import { nightscoutRouter } from './routes.ts';

export { nightscoutDigests } from './credential.ts';
export { treatmentRoutes } from './timeline.ts';
export { followerRoutes } from './followers.ts';

/**
 * The Nightscout API in the running system: readings through the gateways' ingest (the same
 * pipeline as /devices), failed credentials counted in Redis for every server (its own counters
 * under `<prefix>:nightscout`, apart from the meters').
 */
export function nightscoutApi(deps: ApiDependencies): Router {
  const throttle = new DeviceAuthThrottle({
    shared: new RedisFailureCounter(deps.redis, `${deps.redisPrefix}:nightscout`),
    log: deps.log,
  });
  return nightscoutRouter({
    db: deps.db.pool,
    log: deps.log,
    throttle,
    ingest: async (device, payload) =>
      deps.gateway
        ? deps.gateway.ingest(device, payload, 'nightscout')
        : { ok: false, code: 'UNAVAILABLE', message: 'ingest is not running', retryAfterMs: 1000 },
  });
}
