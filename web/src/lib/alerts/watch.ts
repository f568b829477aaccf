import { api } from '../api';
import type { AlertView } from '@glucoboard/core/wire';
import { LiveLink } from '../live/link.svelte';

/**
 * Follows one alert while a nurse works on it (an open acknowledge dialog): every `alert:updated`
 * of the board socket for it, and the alert as it is now after each (re)connect, so a colleague's
 * acknowledgement shows even if it came while the socket was still connecting. `close` ends it.
 */
export function watchAlert(alertId: string, onChange: (alert: AlertView) => void): { close(): void } {
  let closed = false;
  const tell = (alert: AlertView) => {
    if (!closed && alert.id === alertId) onChange(alert);
  };
  const link = new LiveLink({
    onConnect: () =>
      void api.alert(alertId).then(
        (answer) => tell(answer.alert),
        () => undefined,
      ),
    onReading: () => undefined,
    onAlert: tell,
    onPatientUpdated: () => undefined,
    onRefused: () => undefined,
  });
  return {
    close() {
      closed = true;
      link.close();
    },
  };
}
