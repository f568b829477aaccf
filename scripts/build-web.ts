/**
 * `npm run build:web` (and so `npm start`): builds the web app only when its sources changed
 * since the last build. The build takes most of a start (about 25 of 37 s), and it produces the
 * same files for the same sources, so it is skipped while a stamp in the build output still
 * matches the hash of every input.
 *
 *   node --import tsx scripts/build-web.ts            build if needed
 *   node --import tsx scripts/build-web.ts --force    build anyway
 *   node --import tsx scripts/build-web.ts --check    only say; exit 0 when up to date, 1 when not
 *   ... --root DIR                                    a checkout other than this one
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What the build reads: the app, its configuration, its dependencies (the lockfile), the shared
 * core code Vite bundles from source (domain and wire types), and this script itself.
 */
export const WEB_INPUTS = [
  'web/src',
  'web/static',
  'web/svelte.config.js',
  'web/vite.config.ts',
  'web/tsconfig.json',
  'web/package.json',
  'core/src/domain',
  'core/src/wire',
  'core/src/bluetooth',
  'core/package.json',
  'package-lock.json',
  'scripts/build-web.ts',
];
/** In the build output, so a removed or replaced build is never taken for the stamped one. */
export const STAMP = 'web/build/.sources-sha256';
const BUILT_APP = 'web/build/index.html';

/** SHA-256 over every input file's path (relative to root) and content, in a fixed order. */
export async function webSourcesHash(root: string): Promise<string> {
  const hash = createHash('sha256');
  const files: string[] = [];
  for (const input of WEB_INPUTS) files.push(...(await filesUnder(root, input)));
  for (const file of files.sort()) {
    hash.update(`${file}\0`);
    hash.update(await fs.readFile(path.join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

async function filesUnder(root: string, relative: string): Promise<string[]> {
  const stat = await fs.stat(path.join(root, relative)).catch(() => undefined);
  if (!stat) return []; // an optional input (e.g. no static files)
  if (!stat.isDirectory()) return [relative];
  const entries = await fs.readdir(path.join(root, relative), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

/** Why a build is needed, or undefined when the last one is still current. */
export async function staleBecause(root: string, hash: string): Promise<string | undefined> {
  const built = await fs.stat(path.join(root, BUILT_APP)).catch(() => undefined);
  if (!built) return 'no build yet';
  const stamp = (await fs.readFile(path.join(root, STAMP), 'utf8').catch(() => '')).trim();
  if (!stamp) return 'the build has no stamp';
  return stamp === hash ? undefined : 'the sources changed since the last build';
}

async function main(argv: string[]): Promise<number> {
  const rootAt = argv.indexOf('--root');
  const root = path.resolve(
    rootAt >= 0 ? argv[rootAt + 1]! : path.join(path.dirname(fileURLToPath(import.meta.url)), '..'),
  );
  const hash = await webSourcesHash(root);
  const reason = argv.includes('--force') ? 'asked to (--force)' : await staleBecause(root, hash);
  if (reason === undefined) {
    console.log('web app: unchanged since its last build, not rebuilding (web/build)');
    return 0;
  }
  if (argv.includes('--check')) {
    console.log(`web app: needs a build (${reason})`);
    return 1;
  }
  console.log(`web app: building (${reason})`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const build = spawnSync(npm, ['run', 'build', '-w', 'web'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) return build.status ?? 1;
  // Hashed again: a source edited during the build must not be stamped as built.
  if ((await webSourcesHash(root)) === hash) await fs.writeFile(path.join(root, STAMP), `${hash}\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
