import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { demoClinic, demoHistory } from '@glucoboard/core/simulation';
import { hashDeviceToken, hashSecret, newSecret } from '@glucoboard/core/platform';
import {
  addMember,
  createPatient,
  createTeam,
  createUser,
  inTransaction,
  pairDevice,
  readState,
  recordAudit,
  refreshRollups,
  setDeviceLastSeen,
  setEscalationTeam,
  storeDeviceReadings,
  writeState,
  type Database,
} from '@glucoboard/core/storage';

const SEEDED = 'demo_seeded';
export const DEMO_CREDENTIALS_FILE = 'demo-credentials.txt';
/** The demo meters' ids, tokens and next sequence numbers, for the simulator's live demo meters. */
export const DEMO_DEVICES_FILE = 'demo-devices.json';
const HISTORY_DAYS = 28;
const WRITE_CHUNK = 2000;

export interface DemoDevice {
  deviceId: string;
  token: string;
  kind: 'bgm' | 'cgm';
  patientId: string;
  teamId: string;
  /** The seq the meter sends next: history used 0 .. nextSeq - 1. */
  nextSeq: number;
}

/**
 * The demo clinic (two teams, about 40 patients with meters and 28 days of history), seeded once.
 * 28 days are the board's 14 and the 14 before them, so coverage and TIR change show as in use;
 * about 190,000 readings, some seconds on the embedded database at the first start only. Secrets
 * the demo hands out (users' password, meters' tokens) go to files readable by the owner only,
 * never to the log.
 */
export async function seedDemoClinic(
  db: Database,
  options: { dataDir: string; log: Logger; now?: Date },
): Promise<boolean> {
  if ((await readState(db.pool, SEEDED)) !== undefined) return false;
  const now = options.now ?? new Date();
  const clinic = demoClinic();
  const password = newSecret();
  const passwordHash = await hashSecret(password);
  const deviceTokens = new Map<string, string>();
  const tokenHashes = new Map<string, string>();
  for (const patient of clinic.teams.flatMap((t) => t.patients)) {
    const token = newSecret();
    deviceTokens.set(patient.device.serial, token);
    tokenHashes.set(patient.device.serial, await hashDeviceToken(token));
  }

  const devices: DemoDevice[] = [];
  await inTransaction(db.pool, async (client) => {
    const teamIds = new Map<string, string>();
    for (const team of clinic.teams) {
      teamIds.set(
        team.name,
        (await createTeam(client, { name: team.name, escalateAfterMinutes: team.escalateAfterMinutes })).id,
      );
    }
    for (const team of clinic.teams) {
      const teamId = teamIds.get(team.name)!;
      if (team.escalatesTo !== null) {
        await setEscalationTeam(client, teamId, teamIds.get(team.escalatesTo) ?? null);
      }
      let physicianId: string | null = null;
      for (const member of team.members) {
        const user = await createUser(client, { email: member.email, name: member.name, passwordHash });
        await addMember(client, teamId, user.id, member.role);
        if (member.role === 'physician') physicianId ??= user.id;
      }
      for (const patient of team.patients) {
        const { id: patientId } = await createPatient(client, {
          teamId,
          name: patient.name,
          labels: patient.labels,
          targetProfile: patient.targetProfile,
          responsiblePhysicianId: physicianId,
        });
        const serial = patient.device.serial;
        await pairDevice(client, { serial, kind: patient.device.kind, patientId, tokenHash: tokenHashes.get(serial)! });
        const history = demoHistory(patient, new Date(now.getTime() - HISTORY_DAYS * 86_400_000), now, serial.length);
        for (let i = 0; i < history.length; i += WRITE_CHUNK) {
          await storeDeviceReadings(
            client,
            history.slice(i, i + WRITE_CHUNK).map((r) => ({ ...r, deviceSerial: serial, patientId })),
          );
        }
        await setDeviceLastSeen(client, serial, history.at(-1)?.measuredAt ?? null);
        devices.push({
          deviceId: serial,
          token: deviceTokens.get(serial)!,
          kind: patient.device.kind,
          patientId,
          teamId,
          nextSeq: (history.at(-1)?.seq ?? -1) + 1,
        });
      }
    }
    await recordAudit(client, {
      action: 'demo.seeded',
      actor: { kind: 'system' },
      detail: { teams: clinic.teams.length, patients: devices.length },
    });
    await writeState(client, SEEDED, { at: now.toISOString(), teams: clinic.teams.length, patients: devices.length });
  });
  await refreshRollups(db);

  await fs.mkdir(options.dataDir, { recursive: true });
  const users = clinic.teams.flatMap((t) => t.members.map((m) => `${m.email}  (${m.role}, ${t.name})`));
  await fs.writeFile(
    path.join(options.dataDir, DEMO_CREDENTIALS_FILE),
    `Demo users, all with the password: ${password}\n${users.join('\n')}\n`,
    { mode: 0o600 },
  );
  await fs.writeFile(path.join(options.dataDir, DEMO_DEVICES_FILE), JSON.stringify(devices, null, 2), { mode: 0o600 });
  options.log.info(
    {
      teams: clinic.teams.length,
      patients: devices.length,
      credentials: path.join(options.dataDir, DEMO_CREDENTIALS_FILE),
    },
    'demo clinic seeded',
  );
  return true;
}
