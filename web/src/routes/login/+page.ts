import { redirect } from '@sveltejs/kit';
import { safeNext } from '$lib/session/navigation';
import { session } from '$lib/session/session.svelte';
import type { PageLoad } from './$types';

/** Someone already signed in goes straight on. */
export const load: PageLoad = async ({ parent, url }) => {
  await parent();
  if (session.me) redirect(307, safeNext(url.searchParams.get('next')));
};
