import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@glucoboard/core/test-support/processes';
import { STAMP, WEB_INPUTS } from '../../scripts/build-web.ts';

// Issue 11 item 16: `npm start` built the web app on every start (about 25 of its 37 s). The
// build now runs only when its inputs changed. Tried on a copy of the checkout, so the tree that
// other tests serve (web/build) is never half rebuilt under them.

/** Runs `npm run build:web`'s script on the copy; its exit code, output and duration. */
function buildWeb(root: string, ...flags: string[]) {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/build-web.ts', '--root', root, ...flags], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise<{ code: number | null; output: string; ms: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, output, ms: Date.now() - started })),
  );
}

describe('building the web app once (npm start)', () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'glucoboard-web-build-'));
    for (const input of [...WEB_INPUTS, 'package.json']) {
      await fs.cp(path.join(REPO_ROOT, input), path.join(root, input), { recursive: true }).catch((err) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      });
    }
    // The installed dependencies, as after `npm ci` (workspace links lead back to this checkout's core).
    await fs.symlink(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it('builds a fresh checkout, reuses the build while nothing changed, and builds again after a change', async () => {
    const first = await buildWeb(root);
    expect(first.output).toContain('web app: building (no build yet)');
    expect(first.code).toBe(0);
    expect(await fs.readFile(path.join(root, 'web/build/index.html'), 'utf8')).toContain('<html');

    const second = await buildWeb(root);
    expect(second.code).toBe(0);
    expect(second.output).toContain('unchanged since its last build, not rebuilding');
    expect(second.ms).toBeLessThan(first.ms / 2);
    expect(await fs.stat(path.join(root, 'web/build/index.html'))).toBeDefined();

    // A changed source, and a build removed or replaced without its stamp, each call for a build.
    const page = path.join(root, 'web/src/app.html');
    await fs.appendFile(page, '\n<!-- changed -->\n');
    expect(await buildWeb(root, '--check')).toMatchObject({ code: 1 });
    expect((await buildWeb(root, '--check')).output).toContain('the sources changed since the last build');
    await fs.writeFile(page, (await fs.readFile(page, 'utf8')).replace('\n<!-- changed -->\n', ''));
    expect(await buildWeb(root, '--check')).toMatchObject({ code: 0 });
    await fs.rm(path.join(root, STAMP));
    expect((await buildWeb(root, '--check')).output).toContain('needs a build (the build has no stamp)');
  }, 240_000);
});
