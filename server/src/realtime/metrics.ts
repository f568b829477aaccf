import { Counter, Gauge, type Registry } from 'prom-client';
import type { Server } from 'socket.io';
import { BOARD_NAMESPACE } from './board.ts';
import type { DeviceAuthMetrics } from './device-auth.ts';
import { DEVICES_NAMESPACE, type DeviceEventMetrics } from './devices.ts';

/** What the /devices namespace counts, for setupDevices. */
export type DeviceNamespaceMetrics = DeviceAuthMetrics & DeviceEventMetrics & { throttleFallback(): void };

export interface RealtimeMetrics {
  devices: DeviceNamespaceMetrics;
  unregister(): void;
}

/**
 * Connected sockets of this server, read when /metrics is scraped (so they cannot drift from
 * Socket.IO's own bookkeeping), and the device namespace's counters. If a name is already taken
 * on the registry, the metrics made so far are removed again before the error is thrown.
 */
export function registerRealtimeMetrics(registry: Registry, io: Server): RealtimeMetrics {
  const made: string[] = [];
  const unregister = () => {
    for (const name of made) registry.removeSingleMetric(name);
  };
  const connected = (name: string, help: string, namespace: string) => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(io.of(namespace).sockets.size);
      },
    });
    made.push(name);
  };
  const counter = (name: string, help: string, labelNames: string[] = []) => {
    const metric = new Counter({ name, help, labelNames, registers: [registry] });
    made.push(name);
    return metric;
  };
  try {
    connected(
      'glucoboard_connected_devices',
      'Devices (meters, gateways) connected to this server over Socket.IO /devices',
      DEVICES_NAMESPACE,
    );
    connected(
      'glucoboard_connected_boards',
      'Board sockets (browser tabs) connected to this server over Socket.IO /board',
      BOARD_NAMESPACE,
    );
    const verifications = counter(
      'glucoboard_device_auth_verifications_total',
      'Device tokens checked with argon2 (cache misses that were not throttled), by result (ok, refused)',
      ['result'],
    );
    const throttled = counter(
      'glucoboard_device_auth_throttled_total',
      'Device authentications refused unchecked after too many failures, by scope (device id, source address)',
      ['scope'],
    );
    const fallback = counter(
      'glucoboard_device_auth_throttle_fallback_total',
      "Device authentication throttle look-ups answered from this process's memory because Redis did not answer",
    );
    const dropped = counter(
      'glucoboard_device_events_without_ack_total',
      'Device events dropped unanswered because they carried no ack callback at all, by event',
      ['event'],
    );
    return {
      devices: {
        verified: (ok) => verifications.inc({ result: ok ? 'ok' : 'refused' }),
        throttled: (scope) => throttled.inc({ scope }),
        throttleFallback: () => fallback.inc(),
        withoutAck: (event) => dropped.inc({ event }),
      },
      unregister,
    };
  } catch (err) {
    unregister();
    throw err;
  }
}
