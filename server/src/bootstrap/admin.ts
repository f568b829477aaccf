import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { hashSecret, newSecret } from '@glucoboard/core/platform';
import { countUsers, createUser, recordAudit, type Database } from '@glucoboard/core/storage';

export const GENERATED_CREDENTIALS_FILE = 'admin-credentials.txt';

/**
 * First start with no users: a sysadmin from ADMIN_EMAIL / ADMIN_PASSWORD. Without them, on a
 * local installation, a generated password goes to a file only the owner can read (never to the
 * log); against a PostgreSQL server nothing is invented, and the log says what to set.
 */
export async function ensureAdmin(
  db: Database,
  options: { adminEmail: string | undefined; adminPassword: string | undefined; dataDir: string; log: Logger },
): Promise<{ created: boolean; credentialsFile?: string }> {
  if ((await countUsers(db.pool)) > 0) return { created: false };
  let email = options.adminEmail;
  let password = options.adminPassword;
  let credentialsFile: string | undefined;
  if (email === undefined || password === undefined) {
    if (db.backend !== 'embedded') {
      options.log.warn(
        'no users exist: set ADMIN_EMAIL and ADMIN_PASSWORD and restart to create the first administrator',
      );
      return { created: false };
    }
    email = 'admin@glucoboard.local';
    password = newSecret();
    credentialsFile = path.join(options.dataDir, GENERATED_CREDENTIALS_FILE);
    await fs.mkdir(options.dataDir, { recursive: true });
    await fs.writeFile(credentialsFile, `email: ${email}\npassword: ${password}\n`, { mode: 0o600 });
  }
  await createUser(db.pool, { email, name: 'Administrator', passwordHash: await hashSecret(password), sysadmin: true });
  await recordAudit(db.pool, { action: 'user.bootstrap_admin', actor: { kind: 'system' } });
  options.log.info({ credentialsFile }, 'created the first administrator');
  return { created: true, credentialsFile };
}
