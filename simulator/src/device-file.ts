import fs from 'node:fs/promises';
import { DEVICE_KINDS, type DeviceKind } from '@glucoboard/core/domain';

/**
 * A device file: the meters a run uses, as a JSON array in the shape of the demo's
 * `demo-devices.json` (`DemoDevice` in server/src/bootstrap/demo.ts). Tokens are secrets, so the
 * simulator writes these files readable by their owner only.
 */
export interface DeviceRecord {
  deviceId: string;
  token: string;
  kind: DeviceKind;
  patientId: string;
  teamId: string;
  /** The seq the meter sends next. */
  nextSeq: number;
}

export class DeviceFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceFileError';
  }
}

/** The devices of a device file's text; throws DeviceFileError naming the entry and field at fault. */
export function parseDeviceFile(text: string, source = 'the device file'): DeviceRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new DeviceFileError(`${source} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) throw new DeviceFileError(`${source} must hold a JSON array of devices`);
  const seen = new Set<string>();
  return data.map((entry: unknown, i): DeviceRecord => {
    const where = `${source}, device ${i + 1}`;
    if (typeof entry !== 'object' || entry === null) throw new DeviceFileError(`${where} is not an object`);
    const e = entry as Record<string, unknown>;
    for (const field of ['deviceId', 'token', 'patientId', 'teamId'] as const) {
      if (typeof e[field] !== 'string' || e[field] === '') {
        throw new DeviceFileError(`${where}: ${field} must be a non-empty string`);
      }
    }
    if (!DEVICE_KINDS.includes(e['kind'] as DeviceKind)) throw new DeviceFileError(`${where}: kind must be bgm or cgm`);
    const nextSeq = e['nextSeq'];
    if (typeof nextSeq !== 'number' || !Number.isSafeInteger(nextSeq) || nextSeq < 0) {
      throw new DeviceFileError(`${where}: nextSeq must be a whole number of at least 0`);
    }
    const deviceId = e['deviceId'] as string;
    if (seen.has(deviceId)) throw new DeviceFileError(`${where}: ${deviceId} is listed twice`);
    seen.add(deviceId);
    return {
      deviceId,
      token: e['token'] as string,
      kind: e['kind'] as DeviceKind,
      patientId: e['patientId'] as string,
      teamId: e['teamId'] as string,
      nextSeq,
    };
  });
}

export async function readDeviceFile(path: string): Promise<DeviceRecord[]> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    throw new DeviceFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseDeviceFile(text, path);
}

export async function writeDeviceFile(path: string, devices: readonly DeviceRecord[]): Promise<void> {
  await fs.writeFile(path, `${JSON.stringify(devices, null, 2)}\n`, { mode: 0o600 });
}
