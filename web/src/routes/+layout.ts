import { redirect } from '@sveltejs/kit';
import { ApiError } from '$lib/api';
import { session } from '$lib/session/session.svelte';
import type { LayoutLoad } from './$types';

// A client-only single-page app: the server hands out index.html for every route.
export const ssr = false;
export const prerender = false;

/** Pages anyone may open; everything else needs a session (GET /api/me). */
// The meter pages: a patient's paired phone reads and sends with the meter's credential, no account.
const PUBLIC = new Set(['/login', '/meter', '/meter/pair']);

/**
 * The route guard. It asks the server on every navigation, so an ended session sends the user to
 * the sign-in page at the next click; the sign-in page returns her to where she was going.
 */
export const load: LayoutLoad = async ({ fetch, url, depends }) => {
  depends('app:session');
  const me = await session.load(fetch).catch((err: unknown) => {
    // No coverage: the installed meter app still opens (a phone's readings wait in its outbox).
    if (url.pathname.startsWith('/meter') && err instanceof ApiError && err.status === 0) return session.me;
    throw err;
  });
  if (!me && !PUBLIC.has(url.pathname)) {
    redirect(307, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  }
  return {};
};
