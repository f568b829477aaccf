/**
 * The device simulator's programmatic API: the benchmark, the CI smoke test and the server's demo
 * mode use these; `npm run sim` (cli.ts) is a command line over the same.
 */
export {
  runSimulation,
  startSimulation,
  resolveSimulationOptions,
  SimulationOptionError,
  type Progress,
  type Simulation,
  type SimulationOptions,
  type SimulationReport,
} from './simulation.ts';
export type { SimulationSummary } from './summary.ts';
export { startLiveMeters, type LiveMeters, type LiveMetersOptions } from './live-meters.ts';
export { provisionMeters, ProvisioningError, type ProvisionOptions } from './provisioning.ts';
export { DeviceFileError, parseDeviceFile, readDeviceFile, writeDeviceFile, type DeviceRecord } from './device-file.ts';
export { verifyStored, continueAfterStored, type StoredVerification } from './verify.ts';
export { Ledger, DeviceLedger, type AckedReading, type Rejection } from './ledger.ts';
export type { MeterIdentity } from './meter.ts';
export type { DeviceProfile } from './patient.ts';
export { formatProgress } from './progress.ts';
export type { UplinkFactory, Uplink, UplinkEvents } from './uplink.ts';
export { VirtualTime, type TimerHost } from './scheduler.ts';
