/**
 * The part of Web Bluetooth (https://webbluetoothcg.github.io/web-bluetooth/) the meter page uses.
 * TypeScript's DOM library does not have it; these are its shapes, narrowed to what we call.
 */

export interface BluetoothCharacteristic extends EventTarget {
  readonly uuid: string;
  readonly value: DataView | null;
  readValue(): Promise<DataView>;
  writeValueWithResponse(value: Uint8Array): Promise<void>;
  startNotifications(): Promise<BluetoothCharacteristic>;
  stopNotifications(): Promise<BluetoothCharacteristic>;
}

export interface BluetoothService {
  readonly uuid: string;
  getCharacteristic(uuid: string): Promise<BluetoothCharacteristic>;
}

export interface BluetoothGattServer {
  readonly connected: boolean;
  connect(): Promise<BluetoothGattServer>;
  disconnect(): void;
  getPrimaryService(uuid: string): Promise<BluetoothService>;
}

export interface BluetoothMeterDevice extends EventTarget {
  readonly id: string;
  readonly name?: string;
  readonly gatt?: BluetoothGattServer;
}

export interface WebBluetooth {
  getAvailability(): Promise<boolean>;
  requestDevice(options: {
    filters: Array<{ services: string[] }>;
    optionalServices?: string[];
  }): Promise<BluetoothMeterDevice>;
}

/** The browser's Web Bluetooth, or undefined where there is none (Safari, Firefox, iOS). */
export function webBluetooth(): WebBluetooth | undefined {
  if (typeof navigator === 'undefined') return undefined;
  return (navigator as Navigator & { bluetooth?: WebBluetooth }).bluetooth;
}
