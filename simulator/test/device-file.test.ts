import { describe, expect, it } from 'vitest';
import { DeviceFileError, parseDeviceFile } from '../src/device-file.ts';

const device = {
  deviceId: 'DEMO-CGM-0001',
  token: 'abc',
  kind: 'cgm',
  patientId: '6f1c1c2e-0000-4000-8000-000000000001',
  teamId: '6f1c1c2e-0000-4000-8000-000000000002',
  nextSeq: 864,
};

describe('device file (the demo-devices.json format)', () => {
  it('reads a demo device file', () => {
    expect(
      parseDeviceFile(JSON.stringify([device, { ...device, deviceId: 'DEMO-BGM-0001', kind: 'bgm', nextSeq: 0 }])),
    ).toEqual([device, { ...device, deviceId: 'DEMO-BGM-0001', kind: 'bgm', nextSeq: 0 }]);
  });

  it.each([
    ['not json', /is not JSON/],
    ['{}', /must hold a JSON array/],
    [JSON.stringify([null]), /device 1 is not an object/],
    [JSON.stringify([{ ...device, token: '' }]), /device 1: token must be a non-empty string/],
    [JSON.stringify([{ ...device, kind: 'pump' }]), /kind must be bgm or cgm/],
    [JSON.stringify([{ ...device, nextSeq: -1 }]), /nextSeq must be a whole number/],
    [JSON.stringify([device, device]), /device 2: DEMO-CGM-0001 is listed twice/],
  ])('refuses %s with a message naming the entry', (text, message) => {
    expect(() => parseDeviceFile(text, 'devices.json')).toThrow(DeviceFileError);
    expect(() => parseDeviceFile(text, 'devices.json')).toThrow(message);
  });
});
