import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Application logs carry no patient data (Patientdatalagen): code logs ids and counts only, and
 * these paths are censored in case a value slips through anyway.
 */
// Top-level `name` is pino's own logger name, so only nested names are censored.
const REDACTED = [
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

export function createLogger(level: string, name = 'glucoboard', destination?: DestinationStream): Logger {
  const options = { name, level, redact: { paths: REDACTED, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
