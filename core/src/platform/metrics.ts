import { collectDefaultMetrics, Registry } from 'prom-client';

/** One registry per process, with Node's own metrics (RSS, event-loop lag, GC) included. */
export function createMetricsRegistry(process: 'server' | 'workers'): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ process });
  collectDefaultMetrics({ register: registry, prefix: 'glucoboard_' });
  return registry;
}
