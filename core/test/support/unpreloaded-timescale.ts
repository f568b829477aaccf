import net from 'node:net';
import { SERVER_URL } from './databases.ts';

/**
 * A PostgreSQL server as it looks with TimescaleDB installed but not in shared_preload_libraries:
 * a TCP proxy in front of the real test server that lists `timescaledb` as available and answers
 * `CREATE EXTENSION timescaledb` the way TimescaleDB does then, with a FATAL error followed by
 * the server closing that connection. Every other message passes through unchanged.
 */
export interface UnpreloadedTimescale {
  /** The test database's URL, pointed at the proxy. */
  url(databaseUrl: string): string;
  /** How many CREATE EXTENSION timescaledb the proxy refused. */
  readonly refused: number;
  close(): Promise<void>;
}

const PRELOAD_MESSAGE = 'extension "timescaledb" must be preloaded';
const PRELOAD_HINT =
  "Please preload the timescaledb library via shared_preload_libraries.\n\nThis can be done by editing the config file and adding 'timescaledb' to the list in the shared_preload_libraries config.";

export async function unpreloadedTimescale(): Promise<UnpreloadedTimescale> {
  const upstream = new URL(SERVER_URL);
  let refused = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const backend = net.connect(Number(upstream.port || 5432), upstream.hostname);
    for (const s of [client, backend]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    backend.on('data', (d: Buffer) => client.write(d));
    backend.on('close', () => client.destroy());
    client.on('close', () => backend.destroy());
    let pending = Buffer.alloc(0);
    let started = false; // the startup message has no type byte
    client.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      for (;;) {
        if (!started) {
          if (pending.length < 4) return;
          const length = pending.readInt32BE(0);
          if (pending.length < length) return;
          backend.write(pending.subarray(0, length));
          pending = pending.subarray(length);
          started = true;
          continue;
        }
        if (pending.length < 5) return;
        const length = pending.readInt32BE(1) + 1;
        if (pending.length < length) return;
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        if (message[0] !== 0x51 /* Q */) {
          backend.write(message);
          continue;
        }
        const sql = message.subarray(5, length - 1).toString('utf8');
        if (/create\s+extension/i.test(sql) && /timescaledb/i.test(sql)) {
          refused++;
          client.end(fatal(PRELOAD_MESSAGE, PRELOAD_HINT));
          backend.destroy();
          return;
        }
        // Installed: the extension's files are there, so the server lists it as available.
        backend.write(
          /pg_available_extension/i.test(sql) ? query(sql.replaceAll("'timescaledb'", "'plpgsql'")) : message,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url(databaseUrl) {
      const u = new URL(databaseUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    get refused() {
      return refused;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A simple-query message. */
function query(sql: string): Buffer {
  const body = Buffer.from(`${sql}\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('Q', 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** An ErrorResponse of severity FATAL, as the server sends just before it closes the connection. */
function fatal(message: string, hint: string): Buffer {
  const fields = [
    ['S', 'FATAL'],
    ['V', 'FATAL'],
    ['C', 'XX000'],
    ['M', message],
    ['H', hint],
  ];
  const body = Buffer.from(fields.map(([code, value]) => `${code}${value}\0`).join('') + '\0', 'utf8');
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
