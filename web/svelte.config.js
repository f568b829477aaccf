import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/**
 * A static single-page app: the Express server serves `web/build` on the same origin and answers
 * every client route with `index.html`, so nothing is rendered on the server or prerendered.
 * @type {import('@sveltejs/kit').Config}
 */
const config = {
  preprocess: vitePreprocess(),
  vitePlugin: {
    // Runes mode for our own components; libraries keep whatever mode they were written in.
    dynamicCompileOptions: ({ filename }) =>
      filename.split(/[/\\]/).includes('node_modules') ? undefined : { runes: true },
  },
  // SvelteKit 2.49.0 generates a root component that Svelte >= 5.45.3 warns about
  // (state_referenced_locally; kit fixed it in its generator, sveltejs/kit#15013). Those warnings
  // are about kit's file, not ours: silenced for that one file only, ours still warn (and fail check).
  onwarn: (warning, handler) => {
    const generatedRoot = /(^|[/\\])\.svelte-kit[/\\]generated[/\\]root\.svelte$/;
    if (warning.code === 'state_referenced_locally' && generatedRoot.test(warning.filename ?? '')) return;
    handler(warning);
  },
  kit: {
    // The service worker (src/service-worker.ts) is registered by the meter pages only (docs/meters.md).
    serviceWorker: { register: false },
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', precompress: false, strict: true }),
  },
};

export default config;
