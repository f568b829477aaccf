/**
 * A patient's own phone, paired once by the team: the meter's device credential (deviceId and
 * token), carried by a link whose fragment (`#device=...&token=...`) never reaches a server or
 * its logs, and kept on the phone so it reads and sends without an account.
 */

export interface MeterCredential {
  deviceId: string;
  token: string;
}

export const CREDENTIAL_KEY = 'glucoboard.meter.credential';

/** The pairing link of a meter: the meter page's pair route, the credential in the fragment. */
export function pairingLink(origin: string, credential: MeterCredential): string {
  const fragment = new URLSearchParams({ device: credential.deviceId, token: credential.token });
  return `${origin}/meter/pair#${fragment.toString()}`;
}

/** The credential in a pairing link's fragment, or null when it holds none (or a broken one). */
export function credentialFromFragment(hash: string): MeterCredential | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const deviceId = params.get('device')?.trim() ?? '';
  const token = params.get('token')?.trim() ?? '';
  // The gateway's own bounds: a serial may hold ':', a token never does, nor whitespace.
  if (!deviceId || deviceId.length > 64 || !token || token.length > 512 || /[:\s]/.test(token)) return null;
  return { deviceId, token };
}

/** `Authorization: Device <deviceId>:<token>` (SPEC section 4). */
export const deviceAuthorization = (credential: MeterCredential): string =>
  `Device ${credential.deviceId}:${credential.token}`;

type KeyValue = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export function loadCredential(storage: KeyValue | undefined): MeterCredential | null {
  try {
    const raw = storage?.getItem(CREDENTIAL_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<MeterCredential>;
    return typeof parsed.deviceId === 'string' && typeof parsed.token === 'string'
      ? { deviceId: parsed.deviceId, token: parsed.token }
      : null;
  } catch {
    return null;
  }
}

export function saveCredential(storage: KeyValue | undefined, credential: MeterCredential): void {
  storage?.setItem(CREDENTIAL_KEY, JSON.stringify(credential));
}

export function forgetCredential(storage: KeyValue | undefined): void {
  storage?.removeItem(CREDENTIAL_KEY);
}
