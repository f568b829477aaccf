import { pino, type Logger } from 'pino';

/**
 * Application logs carry no patient data (Patientdatalagen): code logs ids and counts only, and
 * these paths are censored in case a value slips through anyway.
 */
const REDACTED = [
  'name',
  'email',
  'password',
  'token',
  'identityNumber',
  'mmol',
  'note',
  'readings',
  '*.name',
  '*.email',
  '*.password',
  '*.token',
  '*.identityNumber',
  '*.mmol',
  '*.note',
  '*.readings',
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
];

export function createLogger(level: string, name = 'glucoboard'): Logger {
  return pino({ name, level, redact: { paths: REDACTED, censor: '[redacted]' } });
}

export type { Logger };
