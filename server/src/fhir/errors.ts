import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { FHIR_JSON, operationOutcome, type IssueInput } from '@glucoboard/core/fhir';
import { isDatabaseUnavailable, DATABASE_RETRY_AFTER_SECONDS } from '../http/errors.ts';

/** A refusal under /fhir/r4: an HTTP status and the OperationOutcome that says why. */
export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly issue: IssueInput,
    readonly headers: Record<string, string> = {},
  ) {
    super(issue.message);
  }
}

export const fhirNotFound = (what: string) =>
  new FhirError(404, { type: 'not-found', code: 'NOT_FOUND', message: `${what} not found` });

export function sendFhir(res: Response, status: number, body: unknown): void {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

/** Everything thrown under /fhir/r4 becomes an OperationOutcome; unexpected errors are logged by id only. */
export function fhirErrors(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    const reply = (status: number, issue: IssueInput, headers: Record<string, string> = {}) => {
      res.set(headers);
      sendFhir(res, status, operationOutcome(issue));
    };
    if (err instanceof FhirError) return reply(err.status, err.issue, err.headers);
    const type = (err as { type?: string }).type;
    const status = (err as { status?: number }).status;
    if (type === 'entity.parse.failed')
      return reply(400, { type: 'structure', code: 'INVALID_JSON', message: 'the body is not valid JSON' });
    if (type === 'entity.too.large')
      return reply(413, {
        type: 'too-costly',
        code: 'PAYLOAD_TOO_LARGE',
        message: 'the body is too large; send fewer entries per Bundle',
      });
    if (typeof status === 'number' && status >= 400 && status < 500)
      return reply(status, { type: 'invalid', code: 'BAD_REQUEST', message: 'the request could not be read' });
    if (isDatabaseUnavailable(err)) {
      log.warn({ err: (err as Error).message, route: req.route?.path }, 'fhir: database unavailable');
      return reply(
        503,
        {
          type: 'transient',
          code: 'UNAVAILABLE',
          message: 'the database cannot be reached right now; try again shortly',
        },
        { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
      );
    }
    log.error(
      { err: (err as Error).message, stack: (err as Error).stack, route: req.route?.path },
      'fhir request failed',
    );
    reply(500, {
      type: 'exception',
      code: 'INTERNAL',
      message: 'something went wrong on our side; it has been logged',
    });
  };
}
