import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// In development the app talks to the Express server on port 3000, just as it does on the same
// origin in production (WebSockets included, for Socket.IO).
const backend = 'http://127.0.0.1:3000';
const proxied = ['/api', '/socket.io', '/healthz', '/readyz', '/metrics'];

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: backend, ws: true }])),
  },
  build: {
    reportCompressedSize: false,
  },
});
