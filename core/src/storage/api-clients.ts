import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

/**
 * API clients (docs/fhir.md): a care team's systems, made by a team admin, that get short-lived
 * bearer tokens by OAuth 2 client credentials. Secrets are stored argon2id-hashed, tokens as
 * their sha256 (the caller hashes both).
 */

export type ApiClientAccess = 'read' | 'read-write';

export interface ApiClientRecord {
  id: string;
  teamId: string;
  name: string;
  access: ApiClientAccess;
  createdBy: string | null;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const CLIENT_COLUMNS = `c.id, c.team_id as "teamId", c.name, c.access, c.created_by as "createdBy",
  c.created_at as "createdAt", c.revoked_at as "revokedAt", c.last_used_at as "lastUsedAt"`;

export async function createApiClient(
  db: Queryable,
  client: { teamId: string; name: string; access: ApiClientAccess; secretHash: string; createdBy: string },
): Promise<ApiClientRecord> {
  const made = await db.query<ApiClientRecord>(
    `insert into api_clients as c (team_id, name, access, secret_hash, created_by) values ($1, $2, $3, $4, $5)
     returning ${CLIENT_COLUMNS}`,
    [client.teamId, client.name, client.access, client.secretHash, client.createdBy],
  );
  return made.rows[0]!;
}

/** The team's clients, newest first, revoked ones included (they stay in the audit trail). */
export async function apiClientsOfTeam(db: Queryable, teamId: string): Promise<ApiClientRecord[]> {
  const rows = await db.query<ApiClientRecord>(
    `select ${CLIENT_COLUMNS} from api_clients c where c.team_id = $1 order by c.created_at desc, c.id`,
    [teamId],
  );
  return rows.rows;
}

/**
 * Revokes the team's client and ends its tokens at once. Returns the client, or undefined when the
 * team has no such client (another team's client is not found either).
 */
export async function revokeApiClient(
  db: Queryable,
  teamId: string,
  clientId: string,
  revokedBy: string,
): Promise<ApiClientRecord | undefined> {
  const revoked = await db.query<ApiClientRecord>(
    `with revoked as (
       update api_clients c set revoked_at = coalesce(c.revoked_at, now()), revoked_by = coalesce(c.revoked_by, $3)
       where c.id = $2 and c.team_id = $1
       returning ${CLIENT_COLUMNS}
     ), tokens as (
       delete from api_client_tokens t using revoked r where t.client_id = r.id
     )
     select * from revoked`,
    [teamId, clientId, revokedBy],
  );
  return revoked.rows[0];
}

/** What the token endpoint checks a client's credentials against; undefined for an unknown or revoked client. */
export async function apiClientCredentials(
  db: Queryable,
  clientId: string,
): Promise<{ id: string; teamId: string; access: ApiClientAccess; secretHash: string } | undefined> {
  const found = await db.query<{ id: string; teamId: string; access: ApiClientAccess; secretHash: string }>(
    `select id, team_id as "teamId", access, secret_hash as "secretHash"
     from api_clients where id = $1 and revoked_at is null`,
    [clientId],
  );
  return found.rows[0];
}

/** Stores a new token (by its hash) and drops the client's expired ones. */
export async function storeApiClientToken(
  db: Queryable,
  token: { id: string; clientId: string; scope: string; expiresAt: Date },
): Promise<void> {
  await db.query(
    `with expired as (delete from api_client_tokens where client_id = $2 and expires_at <= now()),
          used as (update api_clients set last_used_at = now() where id = $2)
     insert into api_client_tokens (id, client_id, scope, expires_at) values ($1, $2, $3, $4)`,
    [token.id, token.clientId, token.scope, token.expiresAt],
  );
}

/** A bearer token in force: its client, the client's team and the scope granted. */
export interface ApiClientGrant {
  clientId: string;
  teamId: string;
  scope: string;
  expiresAt: Date;
}

export async function apiClientGrant(db: Queryable, tokenId: string): Promise<ApiClientGrant | undefined> {
  const found = await db.query<ApiClientGrant>(
    `select t.client_id as "clientId", c.team_id as "teamId", t.scope, t.expires_at as "expiresAt"
     from api_client_tokens t join api_clients c on c.id = t.client_id
     where t.id = $1 and t.expires_at > now() and c.revoked_at is null`,
    [tokenId],
  );
  return found.rows[0];
}

/**
 * How a team reaches a patient, for a system of that team: the patient's responsible team, and
 * whether the team is responsible or was granted read access. Undefined: no such patient.
 */
export async function teamReachOfPatient(
  db: Queryable,
  patientId: string,
  teamId: string,
): Promise<{ teamId: string; responsible: boolean; granted: boolean } | undefined> {
  const found = await db.query<{ teamId: string; responsible: boolean; granted: boolean }>(
    `select p.team_id as "teamId", p.team_id = $2 as responsible,
            exists (select 1 from patient_access_grants g where g.patient_id = p.id and g.team_id = $2) as granted
     from patients p where p.id = $1`,
    [patientId, teamId],
  );
  return found.rows[0];
}
