import type { Browser, CDPSession, Page } from 'playwright-core';
import {
  CURRENT_TIME,
  CURRENT_TIME_SERVICE,
  DEVICE_INFORMATION_SERVICE,
  GLUCOSE_FEATURE,
  GLUCOSE_MEASUREMENT,
  GLUCOSE_MEASUREMENT_CONTEXT,
  GLUCOSE_SERVICE,
  RECORD_ACCESS_CONTROL_POINT,
  SERIAL_NUMBER_STRING,
  bluetoothUuid,
  type DateTime,
} from '@glucoboard/core/bluetooth';
import { EmulatedGlucoseMeter, type StoredRecord } from '@glucoboard/core/test-support/glucose-meter';

/**
 * An EmulatedGlucoseMeter as a Bluetooth peripheral of a real Chromium, through the DevTools
 * protocol's BluetoothEmulation domain (browser-level session) and DeviceAccess (the page's
 * chooser). The page talks real Web Bluetooth: connect, discovery, reads, subscriptions and the
 * RACP write all arrive here as GATT operations and are answered from the emulated meter.
 *
 * One gap in Chromium's emulation (BluetoothEmulation in Chromium 156): the protocol has no
 * command for a peripheral to notify or indicate (CharacteristicOperationType is only read,
 * write, subscribe-to-notifications, unsubscribe-from-notifications). A notification is
 * therefore delivered as a GATT read of the same characteristic that the test makes from the
 * page and answers with the notification's bytes: Chromium then fires the same
 * `characteristicvaluechanged` event on the app's subscribed characteristic that a notification
 * fires, so the app's own notification path runs unchanged. The emulated characteristics carry
 * `read` for that; the app never reads them itself.
 */

const CCCD = bluetoothUuid(0x2902);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

type Role = 'measurement' | 'context' | 'feature' | 'racp' | 'serial' | 'systemId' | 'clock';
const ROLE_SERVICE: Record<Role, string> = {
  measurement: GLUCOSE_SERVICE,
  context: GLUCOSE_SERVICE,
  feature: GLUCOSE_SERVICE,
  racp: GLUCOSE_SERVICE,
  serial: DEVICE_INFORMATION_SERVICE,
  systemId: DEVICE_INFORMATION_SERVICE,
  clock: CURRENT_TIME_SERVICE,
};
const ROLE_UUID: Record<Role, string> = {
  measurement: GLUCOSE_MEASUREMENT,
  context: GLUCOSE_MEASUREMENT_CONTEXT,
  feature: GLUCOSE_FEATURE,
  racp: RECORD_ACCESS_CONTROL_POINT,
  serial: SERIAL_NUMBER_STRING,
  systemId: bluetoothUuid(0x2a23),
  clock: CURRENT_TIME,
};

/** The browser's fake Bluetooth adapter: enabled once per browser, holding any number of meters. */
export class BluetoothLab {
  private readonly peripherals = new Map<string, EmulatedPeripheral>();

  private constructor(readonly cdp: CDPSession) {
    cdp.on('BluetoothEmulation.gattOperationReceived', (e: { address: string; type: string }) => {
      void this.answer('BluetoothEmulation.simulateGATTOperationResponse', {
        address: e.address,
        type: e.type,
        code: 0,
      });
    });
    cdp.on(
      'BluetoothEmulation.characteristicOperationReceived',
      (e: { characteristicId: string; type: string; data?: string }) => {
        const peripheral = this.peripheralOf(e.characteristicId);
        void peripheral?.characteristicOperation(e);
      },
    );
    cdp.on('BluetoothEmulation.descriptorOperationReceived', (e: { descriptorId: string; type: string }) => {
      void this.answer('BluetoothEmulation.simulateDescriptorOperationResponse', {
        descriptorId: e.descriptorId,
        type: e.type,
        code: 0,
        ...(e.type === 'read' ? { data: b64(Uint8Array.of(0, 0)) } : {}),
      });
    });
  }

  /** The phone's Bluetooth: on, off (the browser's chooser then says so) or absent. */
  async setState(state: 'powered-on' | 'powered-off' | 'absent'): Promise<void> {
    await this.cdp.send('BluetoothEmulation.setSimulatedCentralState', { state });
  }

  static async open(browser: Browser): Promise<BluetoothLab> {
    const cdp = await browser.newBrowserCDPSession();
    await cdp.send('BluetoothEmulation.enable', { state: 'powered-on', leSupported: true });
    return new BluetoothLab(cdp);
  }

  /** A meter in range, advertising the Glucose Service, as if already known to the system. */
  async addMeter(
    meter: EmulatedGlucoseMeter,
    address: string,
    name: string,
    /** Device Information's System ID (0x2A23), when the meter has one. */
    systemId?: Uint8Array,
    /** false: advertises the Glucose Service but has none (a device that is no glucose meter). */
    glucoseService = true,
  ): Promise<EmulatedPeripheral> {
    await this.cdp.send('BluetoothEmulation.simulatePreconnectedPeripheral', {
      address,
      name,
      manufacturerData: [{ key: 0x0168, data: b64(Uint8Array.of(1, 2)) }],
      knownServiceUuids: [GLUCOSE_SERVICE],
    });
    const peripheral = new EmulatedPeripheral(this, meter, address, name, systemId, glucoseService);
    await peripheral.build();
    this.peripherals.set(address, peripheral);
    return peripheral;
  }

  /** Picks `peripheral` in the page's Bluetooth chooser whenever the page opens one. */
  async chooseFor(page: Page, peripheral: () => EmulatedPeripheral | 'cancel'): Promise<void> {
    const session = await page.context().newCDPSession(page);
    await session.send('DeviceAccess.enable');
    const answered = new Set<string>();
    session.on('DeviceAccess.deviceRequestPrompted', (e: { id: string; devices: Array<{ id: string }> }) => {
      const choice = peripheral();
      // The prompt is announced again as devices are found; it is answered once.
      if (answered.has(e.id)) return;
      if (choice === 'cancel') {
        answered.add(e.id);
        void session.send('DeviceAccess.cancelPrompt', { id: e.id });
        return;
      }
      if (!e.devices.some((d) => d.id === choice.address)) return;
      answered.add(e.id);
      choice.page = page;
      void session.send('DeviceAccess.selectPrompt', { id: e.id, deviceId: choice.address });
    });
  }

  async answer(method: string, params: Record<string, unknown>): Promise<void> {
    try {
      await this.cdp.send(method as 'BluetoothEmulation.simulateGATTOperationResponse', params as never);
    } catch (err) {
      // A late answer after a simulated disconnection is refused by Chromium; nothing waits for it.
      this.errors.push(`${method}: ${(err as Error).message}`);
    }
  }

  readonly errors: string[] = [];

  private peripheralOf(characteristicId: string): EmulatedPeripheral | undefined {
    return this.peripherals.get(characteristicId.split('_')[0]!);
  }
}

export class EmulatedPeripheral {
  /** The page that chose this meter (where notifications are delivered). */
  page: Page | undefined;
  /** Every RACP request the app wrote, as bytes. */
  readonly racpWrites: number[][] = [];
  private roles = new Map<string, Role>();
  private ids = new Map<Role, string>();
  /** Bytes the next read of a characteristic answers (a notification being delivered). */
  private readonly delivering = new Map<string, Uint8Array[]>();
  private transfers: Promise<void> = Promise.resolve();

  constructor(
    private readonly lab: BluetoothLab,
    readonly meter: EmulatedGlucoseMeter,
    readonly address: string,
    /** Distinct per meter: how a page holding several finds this one among its devices. */
    readonly name: string,
    readonly systemId?: Uint8Array,
    readonly glucoseService = true,
  ) {}

  /** The GATT table: Glucose Service, Device Information, and Current Time when the meter has a clock. */
  async build(): Promise<void> {
    this.roles = new Map();
    this.ids = new Map();
    const services = new Map<string, string>();
    const service = async (uuid: string) => {
      let id = services.get(uuid);
      if (!id) {
        ({ serviceId: id } = (await this.lab.cdp.send('BluetoothEmulation.addService', {
          address: this.address,
          serviceUuid: uuid,
        })) as { serviceId: string });
        services.set(uuid, id);
      }
      return id;
    };
    const add = async (role: Role, properties: Record<string, boolean>, cccd: boolean) => {
      const serviceId = await service(ROLE_SERVICE[role]);
      const { characteristicId } = (await this.lab.cdp.send('BluetoothEmulation.addCharacteristic', {
        serviceId,
        characteristicUuid: ROLE_UUID[role],
        properties,
      })) as { characteristicId: string };
      if (cccd) await this.lab.cdp.send('BluetoothEmulation.addDescriptor', { characteristicId, descriptorUuid: CCCD });
      this.roles.set(characteristicId, role);
      this.ids.set(role, characteristicId);
    };
    // `read` on the notifying ones only carries the test's notifications (see the module comment).
    if (this.glucoseService) {
      await add('measurement', { notify: true, read: true }, true);
      await add('context', { notify: true, read: true }, true);
      await add('feature', { read: true }, false);
      await add('racp', { write: true, indicate: true, read: true }, true);
    }
    // The Serial Number String too, though Web Bluetooth never lets a page read it (GATT blocklist).
    await add('serial', { read: true }, false);
    if (this.systemId) await add('systemId', { read: true }, false);
    if (this.meter.hasCurrentTimeService()) await add('clock', { read: true, notify: true }, true);
  }

  /** The meter goes out of range; Chromium's fake drops its GATT table then, so it is built again. */
  async disconnect(): Promise<void> {
    await this.lab.cdp.send('BluetoothEmulation.simulateGATTDisconnection', { address: this.address });
    await this.build();
  }

  /** Resolves when every transfer the app asked for has been delivered. */
  settled(): Promise<void> {
    return this.transfers;
  }

  async characteristicOperation(e: { characteristicId: string; type: string; data?: string }): Promise<void> {
    const role = this.roles.get(e.characteristicId);
    const respond = (code: number, data?: Uint8Array) =>
      this.lab.answer('BluetoothEmulation.simulateCharacteristicOperationResponse', {
        characteristicId: e.characteristicId,
        type: e.type,
        code,
        ...(data ? { data: b64(data) } : {}),
      });
    if (e.type === 'read') {
      const queued = this.delivering.get(e.characteristicId)?.shift();
      if (queued) return respond(0, queued);
      if (role === 'serial') return respond(0, this.meter.serialNumberBytes());
      if (role === 'systemId' && this.systemId) return respond(0, this.systemId);
      if (role === 'feature') return respond(0, this.meter.featureBytes());
      if (role === 'clock') return respond(0, this.meter.currentTimeBytes());
      return respond(0x02); // Read Not Permitted: a real meter's notify-only characteristic
    }
    if (e.type === 'write' && role === 'racp') {
      const bytes = Uint8Array.from(Buffer.from(e.data ?? '', 'base64'));
      this.racpWrites.push([...bytes]);
      const exchange = this.meter.handleRacpWrite(bytes);
      await respond(0);
      // The meter answers after the write's own response, as a real one does.
      this.transfers = this.transfers.then(() => this.deliver(exchange));
      return;
    }
    // subscribe / unsubscribe, and writes to anything else: accepted.
    return respond(0);
  }

  private async deliver(exchange: ReturnType<EmulatedGlucoseMeter['handleRacpWrite']>): Promise<void> {
    for (const [i, bytes] of exchange.notifications.entries()) {
      await this.notify(exchange.notifiedOn[i] === 'context' ? 'context' : 'measurement', bytes);
    }
    if (exchange.connectionLost) await this.disconnect();
    else if (exchange.indication) await this.notify('racp', exchange.indication);
  }

  /** One notification (or indication): a read from the page that this peripheral answers with `bytes`. */
  private async notify(role: Role, bytes: Uint8Array): Promise<void> {
    const page = this.page;
    const id = this.ids.get(role);
    if (!page || !id) throw new Error(`no page or characteristic to notify ${role} on`);
    const queue = this.delivering.get(id) ?? [];
    queue.push(bytes);
    this.delivering.set(id, queue);
    await page.evaluate(
      async ([service, characteristic, name]) => {
        const bluetooth = (navigator as unknown as { bluetooth: { getDevices(): Promise<unknown[]> } }).bluetooth;
        type Device = {
          id: string;
          name?: string;
          gatt: {
            getPrimaryService(uuid: string): Promise<{
              getCharacteristic(uuid: string): Promise<{ readValue(): Promise<DataView> }>;
            }>;
          };
        };
        const devices = (await bluetooth.getDevices()) as Device[];
        const device = devices.find((d) => d.name === name) ?? devices[0]!;
        const svc = await device.gatt.getPrimaryService(service);
        await (await svc.getCharacteristic(characteristic)).readValue();
      },
      [ROLE_SERVICE[role], ROLE_UUID[role], this.name] as const,
    );
  }
}

// --- Records ---------------------------------------------------------------------------------------

/** The wall clock of an instant in a time zone, as a meter set to that zone keeps it. */
export function wallClock(at: Date, timeZone = 'Europe/Stockholm'): DateTime {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hours: Number(parts.hour),
    minutes: Number(parts.minute),
    seconds: Number(parts.second),
  };
}

export type RecordSpec =
  | { mmol: number; unit?: 'mol/L' | 'kg/L'; control?: boolean; meal?: 'preprandial' | 'postprandial' }
  | { lo: true; control?: boolean }
  | { hi: true; control?: boolean };

/** A stored record as a meter keeps it: `minutesAgo` before now in the meter's local clock. */
export function storedRecord(sequence: number, minutesAgo: number, spec: RecordSpec): StoredRecord {
  const baseTime = wallClock(new Date(Date.now() - minutesAgo * 60_000));
  const sampleType = spec.control ? 'control solution' : 'capillary whole blood';
  if ('lo' in spec || 'hi' in spec) {
    // A result outside what the meter can measure: the limit as value, and the annunciation.
    const low = 'lo' in spec;
    return {
      measurement: {
        sequence,
        baseTime,
        timeOffsetMinutes: 0,
        concentration: {
          value: { mantissa: low ? 6 : 333, exponent: -4 },
          unit: 'mol/L',
          sampleType,
          sampleLocation: spec.control ? 'control solution' : 'finger',
        },
        sensorStatus: low ? { resultLowerThanDeviceCanProcess: true } : { resultHigherThanDeviceCanProcess: true },
      },
    };
  }
  const unit = spec.unit ?? 'mol/L';
  // mol/L: mmol x 1e-3 (tenths: mantissa, exponent -4); kg/L: mg/dL x 1e-5 (whole mg/dL, exponent -5).
  const value =
    unit === 'mol/L'
      ? { mantissa: Math.round(spec.mmol * 10), exponent: -4 }
      : { mantissa: Math.round(spec.mmol * 18.0156), exponent: -5 };
  return {
    measurement: {
      sequence,
      baseTime,
      timeOffsetMinutes: 0,
      concentration: {
        value,
        unit,
        sampleType,
        sampleLocation: spec.control ? 'control solution' : 'finger',
      },
    },
    ...('meal' in spec && spec.meal ? { context: { meal: spec.meal } } : {}),
  };
}

export { EmulatedGlucoseMeter };
