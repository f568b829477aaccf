import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.ts';

function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(line) } };
}

describe('application log', () => {
  it('censors patient data and secrets that slip into a log call, and keeps its own name', () => {
    const { lines, stream } = capture();
    const log = createLogger('info', 'glucoboard', stream);
    log.info(
      {
        patient: { name: 'Astrid Lindqvist', identityNumber: '19121212-1212', mmol: 2.4 },
        password: 'hunter2hunter2',
        token: 'device-secret',
        readings: [{ mmol: 2.4 }],
        patientId: '7d0c…',
      },
      'something happened',
    );
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line.name).toBe('glucoboard');
    expect(line.patientId).toBe('7d0c…');
    const text = lines[0]!;
    for (const secret of ['Astrid', '19121212', '2.4', 'hunter2', 'device-secret']) expect(text).not.toContain(secret);
  });
});
