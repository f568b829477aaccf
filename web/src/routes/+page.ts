import { redirect } from '@sveltejs/kit';
import type { PageLoad } from './$types';

/** The start page is the board (the layout has sent anyone signed out to the sign-in page). */
export const load: PageLoad = async ({ parent }) => {
  await parent();
  redirect(307, '/board');
};
