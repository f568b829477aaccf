import { loadConfig } from '@glucoboard/core/config';
import { createTestDatabase, silentLog, type TestBackend } from '@glucoboard/core/test-support/databases';
import { dropRedisPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '@glucoboard/core/test-support/redis';
import { startSystem, type RunningSystem } from '../../src/system.ts';
import { Client } from './http.ts';

export const ADMIN = { email: 'sysadmin@example.se', password: 'correct horse battery staple' };
export const PASSWORD = 'a long enough password';

/**
 * A running system on a fresh database; stop() removes everything it made. With
 * `installationPrefix`, REDIS_PREFIX is left unset, as in `npm start` out of the box, and the
 * system picks its installation's own prefix.
 */
export async function startTestSystem(
  backend: TestBackend = 'postgres',
  env: Record<string, string> = {},
  options: { installationPrefix?: boolean } = {},
) {
  const target = await createTestDatabase(backend);
  const environment = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: target.dataDir,
    REDIS_URL: TEST_REDIS_URL,
    ...(options.installationPrefix ? {} : { REDIS_PREFIX: uniqueRedisPrefix() }),
    DEMO: '0',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    ...(target.databaseUrl ? { DATABASE_URL: target.databaseUrl } : {}),
    ...env,
  };
  const boot = () => startSystem(loadConfig(environment), silentLog);
  const running = { system: await boot() };
  const prefix = running.system.redisPrefix;
  return {
    get system(): RunningSystem {
      return running.system;
    },
    dataDir: target.dataDir,
    /** Unset for the embedded database. */
    databaseUrl: target.databaseUrl,
    prefix,
    client: () => new Client(running.system.url),
    /** Stops the system and starts it again on the same database and data directory. */
    async restart(): Promise<RunningSystem> {
      await running.system.close();
      running.system = await boot();
      return running.system;
    },
    async stop() {
      await running.system.close();
      await target.dispose();
      await dropRedisPrefix(prefix);
    },
  };
}

export type TestSystem = Awaited<ReturnType<typeof startTestSystem>>;
/** A running system with its sysadmin signed in. */
export type Clinic = TestSystem & { sysadmin: Client };

/** One team per name, in the names' order. */
type TeamsNamed<Names extends readonly string[]> = { [K in keyof Names]: TeamFixture };

/**
 * A test file's clinic, for its beforeAll: a running system with its sysadmin signed in, then the
 * named teams built through the public API, in that order. The caller stops it in afterAll.
 */
export async function startClinic<const Names extends readonly string[]>(
  ...teamNames: Names
): Promise<[Clinic, ...TeamsNamed<Names>]> {
  const env = await startTestSystem('postgres');
  const sysadmin = await env.client().login(ADMIN.email, ADMIN.password);
  const teams: TeamFixture[] = [];
  for (const name of teamNames) teams.push(await buildTeam(sysadmin, env.system.url, name));
  return [Object.assign(env, { sysadmin }), ...(teams as unknown as TeamsNamed<Names>)];
}

export interface TeamFixture {
  teamId: string;
  admin: Client;
  nurse: Client;
  adminId: string;
  nurseId: string;
  patientId: string;
  deviceId: string;
  deviceToken: string;
}

/** More patients for a team, each with a meter of the given kind, made through the public API. */
export async function addPatientsWithMeters(admin: Client, teamId: string, count: number, tag: string, kind = 'cgm') {
  const made: Array<{ patientId: string; deviceId: string; deviceToken: string }> = [];
  for (let i = 0; i < count; i++) {
    const patient = await admin.post('/api/patients', { name: `${tag} ${i}`, teamId });
    const device = await admin.post('/api/devices', { serial: `${tag}-${i}`, kind, patientId: patient.body.id });
    if (device.status !== 201) throw new Error(`pairing ${tag}-${i}: ${device.status} ${device.text}`);
    made.push({ patientId: patient.body.id, deviceId: device.body.deviceId, deviceToken: device.body.token });
  }
  return made;
}

/** Builds a team through the public API as a sysadmin would: members, a patient and a meter. */
export async function buildTeam(sys: Client, base: string, name: string): Promise<TeamFixture> {
  const team = await sys.post('/api/teams', { name });
  const teamId = team.body.id as string;
  const slug = name.toLowerCase().replace(/\W+/g, '-');
  const ids: Record<string, string> = {};
  for (const role of ['admin', 'nurse'] as const) {
    const user = await sys.post('/api/users', {
      email: `${role}@${slug}.example.se`,
      name: `${role} of ${name}`,
      password: PASSWORD,
    });
    ids[role] = user.body.id;
    await sys.post(`/api/teams/${teamId}/members`, { userId: user.body.id, role });
  }
  const admin = await new Client(base).login(`admin@${slug}.example.se`, PASSWORD);
  const nurse = await new Client(base).login(`nurse@${slug}.example.se`, PASSWORD);
  const patient = await admin.post('/api/patients', {
    name: `Patient of ${name}`,
    teamId,
    identityNumber: '19121212-1212',
    labels: ['säbo'],
  });
  const device = await admin.post('/api/devices', { serial: `${slug}-meter`, kind: 'bgm', patientId: patient.body.id });
  return {
    teamId,
    admin,
    nurse,
    adminId: ids.admin!,
    nurseId: ids.nurse!,
    patientId: patient.body.id,
    deviceId: device.body.deviceId,
    deviceToken: device.body.token,
  };
}
