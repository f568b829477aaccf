import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, type Plugin } from 'vite';

// In development the app talks to the Express server on port 3000, just as it does on the same
// origin in production (WebSockets included, for Socket.IO).
const backend = 'http://127.0.0.1:3000';
const proxied = ['/api', '/socket.io', '/healthz', '/readyz', '/metrics'];

/**
 * One Svelte for compiler and runtime. The workspace install holds two copies of `svelte`: the one
 * next to the hoisted @sveltejs/vite-plugin-svelte, which compiles our components, and an older one
 * in web/node_modules, which their `svelte/internal/*` imports would otherwise reach (the plugin's
 * `resolve.dedupe` resolves from web/). Compiled output runs only on its own compiler's runtime,
 * and SvelteKit's client must share that runtime, so every `svelte` import goes to the compiler's
 * copy, through that package's own `exports` map.
 */
function oneSvelte(): Plugin {
  const plugin = fileURLToPath(import.meta.resolve('@sveltejs/vite-plugin-svelte'));
  const modules = plugin.slice(0, plugin.lastIndexOf(`${path.sep}node_modules${path.sep}`) + '/node_modules'.length);
  const dir = path.join(modules, 'svelte');
  const exports = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).exports as Record<
    string,
    string | Record<string, string>
  >;
  return {
    name: 'glucoboard:one-svelte',
    enforce: 'pre',
    resolveId(id, _importer, options) {
      if (id !== 'svelte' && !id.startsWith('svelte/')) return null;
      const entry = exports[id === 'svelte' ? '.' : `./${id.slice('svelte/'.length)}`];
      if (!entry) return null;
      const target =
        typeof entry === 'string' ? entry : ((options.ssr ? undefined : entry.browser) ?? entry.default ?? null);
      return target ? path.join(dir, target) : null;
    },
  };
}

export default defineConfig({
  plugins: [oneSvelte(), sveltekit()],
  server: {
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: backend, ws: true }])),
  },
  build: {
    reportCompressedSize: false,
  },
});
