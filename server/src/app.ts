import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Registry } from 'prom-client';
import type { Readiness } from './health.ts';

const WEB_BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/build');

export interface AppDependencies {
  readiness(): Promise<Readiness>;
  metrics: Registry;
  /** Where the built SvelteKit app is; served on the same origin as the API. */
  webBuild?: string;
}

/** The HTTP application: operations endpoints, then the API (later issues), then the web app. */
export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
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

  app.use('/api', (_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no such API route' } });
  });

  serveWebApp(app, deps.webBuild ?? WEB_BUILD);
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
