import { describe, expect, it } from 'vitest';
import { baseUrlOf, durationMs, nextGlucose, originOf, pickWeighted, uuidFromBytes } from '../src/common.ts';
import { decodeFrame, encodeConnect, encodeDisconnect, encodeEvent, PONG_FRAME, socketIoUrl } from '../src/socketio.ts';

// The k6 scripts' hand-written Engine.IO v4 / Socket.IO v5 framing. The frames below are what
// socket.io 4.8 puts on the wire (checked against socket.io-parser's Encoder and Decoder).
describe('socket.io framing', () => {
  it('derives the websocket URL from the HTTP base URL', () => {
    expect(socketIoUrl('http://127.0.0.1:3000')).toBe('ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket');
    expect(socketIoUrl('https://board.example.se/app/')).toBe(
      'wss://board.example.se/socket.io/?EIO=4&transport=websocket',
    );
    expect(() => socketIoUrl('ftp://x')).toThrow();
  });

  it('encodes CONNECT with auth, EVENT with an ack id, and DISCONNECT', () => {
    expect(encodeConnect('/devices', { deviceId: 'D-1', token: 't,o"k' })).toBe(
      '40/devices,{"deviceId":"D-1","token":"t,o\\"k"}',
    );
    expect(encodeConnect('/')).toBe('40');
    expect(encodeEvent('/devices', 'readings', [{ readings: [{ seq: 1, mmol: 5.5 }] }], 7)).toBe(
      '42/devices,7["readings",{"readings":[{"seq":1,"mmol":5.5}]}]',
    );
    expect(encodeEvent('/', 'x', [1])).toBe('42["x",1]');
    expect(encodeDisconnect('/devices')).toBe('41/devices,');
    expect(PONG_FRAME).toBe('3');
    expect(() => encodeEvent('/devices', 'x', [], -1)).toThrow();
    expect(() => encodeConnect('devices')).toThrow();
  });

  it('decodes the Engine.IO open, ping and close packets', () => {
    const open = decodeFrame(
      '0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}',
    );
    expect(open).toEqual({
      kind: 'open',
      handshake: { sid: 's1', upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 },
    });
    expect(decodeFrame('2')).toEqual({ kind: 'ping' });
    expect(decodeFrame('1')).toEqual({ kind: 'close' });
    expect(decodeFrame('0{}').kind).toBe('invalid');
    expect(decodeFrame('').kind).toBe('invalid');
  });

  it('decodes CONNECT, CONNECT_ERROR, ACK, EVENT and DISCONNECT of a namespace', () => {
    expect(decodeFrame('40/devices,{"sid":"abc"}')).toEqual({ kind: 'connect', nsp: '/devices', sid: 'abc' });
    expect(decodeFrame('44/devices,{"message":"no","data":{"code":"DEVICE_AUTH","message":"no"}}')).toEqual({
      kind: 'connect_error',
      nsp: '/devices',
      message: 'no',
      data: { code: 'DEVICE_AUTH', message: 'no' },
    });
    expect(decodeFrame('43/devices,123[{"ok":true,"accepted":1,"duplicates":0,"rejected":[]}]')).toEqual({
      kind: 'ack',
      nsp: '/devices',
      id: 123,
      args: [{ ok: true, accepted: 1, duplicates: 0, rejected: [] }],
    });
    expect(decodeFrame('430[]')).toEqual({ kind: 'ack', nsp: '/', id: 0, args: [] });
    expect(decodeFrame('42/devices,["hello","world"]')).toEqual({
      kind: 'event',
      nsp: '/devices',
      id: null,
      name: 'hello',
      args: ['world'],
    });
    expect(decodeFrame('41/devices,')).toEqual({ kind: 'disconnect', nsp: '/devices' });
  });

  it('refuses what the scripts cannot handle instead of guessing', () => {
    expect(decodeFrame('43/devices,[{}]').kind).toBe('invalid'); // an ACK without its id
    expect(decodeFrame('42/devices,{"not":"an array"}').kind).toBe('invalid');
    expect(decodeFrame('40/devices,{oops').kind).toBe('invalid');
    expect(decodeFrame('451-/devices,["x",{"_placeholder":true,"num":0}]').kind).toBe('invalid');
    expect(decodeFrame('9').kind).toBe('invalid');
  });
});

describe('load script helpers', () => {
  it('reads the base URL and its origin', () => {
    expect(baseUrlOf(undefined)).toBe('http://127.0.0.1:3000');
    expect(baseUrlOf('http://h:1/')).toBe('http://h:1');
    expect(originOf('https://h.example/base/path')).toBe('https://h.example');
    expect(() => baseUrlOf('h:1')).toThrow();
  });

  it('reads k6-style durations', () => {
    expect(durationMs('D', undefined, '1m')).toBe(60_000);
    expect(durationMs('D', '1h30m', '1m')).toBe(5_400_000);
    expect(durationMs('D', '250ms', '1m')).toBe(250);
    expect(durationMs('D', '90', '1m')).toBe(90_000);
    expect(() => durationMs('D', '5 minutes', '1m')).toThrow(/D must be a duration/);
  });

  it('makes version 4 UUIDs', () => {
    const uuid = uuidFromBytes(new Uint8Array(16).fill(0xff));
    expect(uuid).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(uuidFromBytes(new Uint8Array(16))).toMatch(/^00000000-0000-4000-8000-000000000000$/);
  });

  it('picks by weight', () => {
    const weights = { a: 1, b: 3 };
    expect(pickWeighted(weights, 0)).toBe('a');
    expect(pickWeighted(weights, 0.24)).toBe('a');
    expect(pickWeighted(weights, 0.25)).toBe('b');
    expect(pickWeighted(weights, 0.999)).toBe('b');
  });

  it('keeps glucose values within what a meter shows, to one decimal', () => {
    let value = 7.5;
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let i = 0; i < 10_000; i++) {
      value = nextGlucose(value, random);
      expect(value).toBeGreaterThanOrEqual(2.4);
      expect(value).toBeLessThanOrEqual(22);
      expect(Math.round(value * 10) / 10).toBe(value);
    }
  });
});
