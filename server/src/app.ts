import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Readiness } from './health.ts';
import { errorResponder } from './http/errors.ts';

const WEB_BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/build');

export interface AppDependencies {
  readiness(): Promise<Readiness>;
  metrics: Registry;
  /** Everything under /api. */
  api: Router;
  log: Logger;
  /** Express "trust proxy": lets req.secure and req.ip see through a TLS-terminating proxy. */
  trustProxy: boolean | number | string;
  /** Where the built SvelteKit app is; served on the same origin as the API. */
  webBuild?: string;
}

/** The HTTP application: operations endpoints, then the API, then the web app. */
export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // SvelteKit's SPA bootstraps with an inline module script.
          'script-src': ["'self'", "'unsafe-inline'"],
          'connect-src': ["'self'", 'ws:', 'wss:'],
          // TLS is the reverse proxy's job; forcing https here would break plain-HTTP installs on a LAN.
          'upgrade-insecure-requests': null,
        },
      },
    }),
  );

  // Operational answers are about now: never cached by a browser or a proxy.
  app.use(['/healthz', '/readyz', '/metrics'], (_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const result = await deps.readiness();
    res.status(result.status === 'ready' ? 200 : 503).json(result);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });

  app.use(deps.api);
  serveWebApp(app, deps.webBuild ?? WEB_BUILD);
  app.use(errorResponder(deps.log));
  return app;
}

function serveWebApp(app: Express, dir: string): void {
  const index = path.join(dir, 'index.html');
  app.use(express.static(dir, { index: false, maxAge: '1h' }));
  // Client-side routes of the SPA all load index.html.
  app.get('/{*path}', (_req, res) => {
    if (fs.existsSync(index)) res.sendFile(index);
    else
      res.status(503).type('text').send('The web app is not built yet: run `npm run build:web` (npm start does it).');
  });
}
