import { Gauge, type Registry } from 'prom-client';
import type { Server } from 'socket.io';
import { BOARD_NAMESPACE } from './board.ts';
import { DEVICES_NAMESPACE } from './devices.ts';

const NAMES = ['glucoboard_connected_devices', 'glucoboard_connected_boards'] as const;

/**
 * Connected sockets of this server, read when /metrics is scraped (so they cannot drift from
 * Socket.IO's own bookkeeping). Returns the unregistration.
 */
export function registerRealtimeMetrics(registry: Registry, io: Server): () => void {
  const [devices, boards] = NAMES;
  new Gauge({
    name: devices,
    help: 'Devices (meters, gateways) connected to this server over Socket.IO /devices',
    registers: [registry],
    collect() {
      this.set(io.of(DEVICES_NAMESPACE).sockets.size);
    },
  });
  new Gauge({
    name: boards,
    help: 'Board sockets (browser tabs) connected to this server over Socket.IO /board',
    registers: [registry],
    collect() {
      this.set(io.of(BOARD_NAMESPACE).sockets.size);
    },
  });
  return () => {
    for (const name of NAMES) registry.removeSingleMetric(name);
  };
}
