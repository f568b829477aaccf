import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The dependency direction docs/architecture.md states, checked on the sources' import lines:
 * a drift shows here, not in a review months later.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Every import or re-export specifier of the .ts files under a directory (of the repository). */
function importsUnder(dir: string): Array<{ file: string; specifier: string }> {
  const found: Array<{ file: string; specifier: string }> = [];
  const files = fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' });
  for (const name of files.filter((f) => f.endsWith('.ts'))) {
    const file = path.join(dir, name);
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g))
      found.push({ file, specifier: match[1]! });
  }
  return found;
}

const packagesImported = (dir: string) =>
  new Set(
    importsUnder(dir)
      .map((i) => i.specifier)
      .filter((s) => s.startsWith('@glucoboard/')),
  );

/** The relative imports under a directory that land outside its workspace, with where they land. */
function reachedAcross(dir: string): Array<{ file: string; target: string }> {
  const workspace = dir.split('/')[0]! + '/';
  return importsUnder(dir)
    .filter(({ specifier }) => specifier.startsWith('.'))
    .map(({ file, specifier }) => ({
      file,
      target: path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)),
    }))
    .filter(({ target }) => !target.startsWith(workspace));
}

describe('the dependency direction', () => {
  it('core depends on no other workspace; workers and the simulator on core only', () => {
    expect(packagesImported('core/src')).toEqual(new Set());
    for (const dir of ['workers/src', 'simulator/src'])
      for (const specifier of packagesImported(dir)) expect(specifier, dir).toMatch(/^@glucoboard\/core\//);
  });

  it('the server reaches the simulator through its demo entry only', () => {
    const simulator = [...packagesImported('server/src')].filter((s) => s.startsWith('@glucoboard/simulator'));
    expect(simulator).toEqual(['@glucoboard/simulator/demo']);
  });

  it('no workspace reaches into another by a relative path', () => {
    for (const dir of ['core/src', 'server/src', 'workers/src', 'simulator/src'])
      expect(reachedAcross(dir), dir).toEqual([]);
  });

  it("tests take another workspace's test support from its package exports (…/test-support/…)", () => {
    for (const dir of ['core/test', 'server/test', 'workers/test', 'simulator/test', 'web/test']) {
      const support = reachedAcross(dir).filter(({ target }) => /^[^/]+\/test\/support\//.test(target));
      expect(support, dir).toEqual([]);
    }
  });

  it('the domain has no I/O and no simulation; the simulation builds on the domain only', () => {
    const domain = importsUnder('core/src/domain').map((i) => i.specifier);
    expect(domain.filter((s) => !s.startsWith('./'))).toEqual([]);
    const simulation = importsUnder('core/src/simulation').map((i) => i.specifier);
    expect(simulation.filter((s) => !s.startsWith('./') && !s.startsWith('../domain/'))).toEqual([]);
  });

  it('the Bluetooth decoders run in the browser: no Node APIs, only the domain and the device reading contract', () => {
    const bluetooth = importsUnder('core/src/bluetooth').map((i) => i.specifier);
    const allowed = /^(\.\/|\.\.\/domain\/|\.\.\/wire\/device-readings\.ts$)/;
    expect(bluetooth.filter((s) => !allowed.test(s))).toEqual([]);
    // The emulated meter runs in the browser test's page too.
    const meter = importsUnder('core/test/support').filter((i) => i.file.endsWith('glucose-meter.ts'));
    expect(meter.map((i) => i.specifier).filter((s) => !s.startsWith('../../src/bluetooth/'))).toEqual([]);
    for (const file of fs.readdirSync(path.join(ROOT, 'core/src/bluetooth')).map((f) => `core/src/bluetooth/${f}`)) {
      expect(fs.readFileSync(path.join(ROOT, file), 'utf8'), file).not.toMatch(/\bBuffer\b|\bprocess\.|node:/);
    }
  });

  it('queues are opened in one place, with their names and payloads from core', () => {
    const opening = ['server/src', 'workers/src', 'core/src'].flatMap((dir) =>
      fs
        .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => path.join(dir, f))
        .filter((file) => /new Queue\(/.test(fs.readFileSync(path.join(ROOT, file), 'utf8'))),
    );
    expect(opening).toEqual(['core/src/platform/queues.ts']);
  });
});
