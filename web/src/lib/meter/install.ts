import { dev } from '$app/environment';

/**
 * The meter page as an installed web app (opens from the home screen): its service worker keeps
 * the app's files so the page opens without coverage at a home visit. Registered from the meter
 * pages only, so the rest of the app keeps plain network loading.
 */
export function registerMeterApp(): void {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker
    .register('/service-worker.js', { type: dev ? 'module' : 'classic', updateViaCache: 'none' })
    .catch(() => {
      // Not installable here (e.g. plain HTTP on a LAN address): the page works the same online.
    });
}
