import { describe, expect, it } from 'vitest';
import { parseReadyz } from '../src/lib/system/status';

const readyBody = { status: 'ready', checks: { database: 'ok', redis: 'ok' } };

describe('parseReadyz', () => {
  it('accepts the agreed shape and rejects anything else', () => {
    expect(parseReadyz(readyBody)).toEqual(readyBody);
    expect(parseReadyz({ status: 'unready', checks: { database: 'ECONNREFUSED', redis: 'ok' } })).toEqual({
      status: 'unready',
      checks: { database: 'ECONNREFUSED', redis: 'ok' },
    });
    expect(parseReadyz({ status: 'fine' })).toBeNull();
    expect(parseReadyz('ready')).toBeNull();
    expect(parseReadyz(null)).toBeNull();
    expect(parseReadyz({ status: 'ready' })).toEqual({ status: 'ready', checks: { database: '', redis: '' } });
  });
});

// fetchSystemStatus is tested against the real server in server/test/readiness.test.ts.
