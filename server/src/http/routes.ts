import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { validationError } from '@glucoboard/core/wire';
import type { SignedInUser } from '../access/sessions.ts';
import { ApiError, notFound, unauthenticated } from './errors.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Reply {
  status: number;
  body?: unknown;
  /** Raw text instead of JSON (e.g. a CSV extract). */
  text?: { contentType: string; content: string; filename?: string };
  /** A download written piece by piece (a long export) instead of held as one string. */
  stream?: { contentType: string; filename?: string; write(out: Response): Promise<void> };
  /** Send the browser here instead (status 302 or 303). */
  redirect?: string;
}

export interface RouteContext<B, Q, Signed extends boolean> {
  req: Request;
  res: Response;
  user: Signed extends true ? SignedInUser : SignedInUser | null;
  body: B;
  query: Q;
  params: Record<string, string>;
  /** The caller's address, for the audit trail. */
  origin: string;
}

/**
 * One API route: what it accepts, who may call it and what it answers. The same description
 * validates requests and produces the OpenAPI document, so the two cannot drift apart.
 */
export interface RouteSpec<B = unknown, Q = unknown, Signed extends boolean = boolean> {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  signedIn: Signed;
  /** Path parameters that are ids: anything else answers 404 before reaching the database. */
  params?: Record<string, 'uuid' | 'text'>;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handle(ctx: RouteContext<B, Q, Signed>): Promise<Reply>;
}

export const route = <B = undefined, Q = undefined, Signed extends boolean = true>(spec: RouteSpec<B, Q, Signed>) =>
  spec as unknown as RouteSpec;

function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) {
    const e = validationError(result.error);
    throw new ApiError(400, e.code, e.message, e.field);
  }
  return result.data;
}

export function routerFor(routes: readonly RouteSpec[]): Router {
  const router = Router();
  for (const spec of routes) {
    router[spec.method](spec.path, async (req, res) => {
      const user = (res.locals.user as SignedInUser | undefined) ?? null;
      if (spec.signedIn && !user) throw unauthenticated();
      for (const [name, kind] of Object.entries(spec.params ?? {})) {
        const value = String(req.params[name] ?? '');
        if (kind === 'uuid' && !UUID.test(value)) throw notFound(name.replace(/Id$/, ''));
      }
      const body = spec.body ? parseOrThrow(spec.body, req.body ?? {}) : undefined;
      const query = spec.query ? parseOrThrow(spec.query, req.query) : undefined;
      const reply = await spec.handle({
        req,
        res,
        user,
        body,
        query,
        params: req.params as Record<string, string>,
        origin: req.ip ?? 'unknown',
      });
      if (reply.redirect) {
        res.redirect(reply.status, reply.redirect);
        return;
      }
      if (reply.stream) {
        res.type(reply.stream.contentType);
        if (reply.stream.filename) res.attachment(reply.stream.filename);
        res.status(reply.status);
        try {
          await reply.stream.write(res);
          res.end();
        } catch (err) {
          // Before the first byte the error still gets its JSON answer; after it, a cut connection
          // tells the client the file is incomplete (a 200 that ends early would look whole).
          if (!res.headersSent) {
            res.removeHeader('content-type');
            res.removeHeader('content-disposition');
            throw err;
          }
          res.destroy(err instanceof Error ? err : new Error(String(err)));
        }
        return;
      }
      if (reply.text) {
        res.type(reply.text.contentType);
        if (reply.text.filename) res.attachment(reply.text.filename);
        res.status(reply.status).send(reply.text.content);
      } else if (reply.body === undefined) {
        res.status(reply.status).end();
      } else {
        res.status(reply.status).json(reply.body);
      }
    });
  }
  return router;
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
    },
  },
};

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any' });

/** The OpenAPI 3.1 document of the routes (served at /api/openapi.json). */
export function openApiDocument(routes: readonly RouteSpec[], info: { title: string; version: string }): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routes) {
    const path = spec.path.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = Object.keys(spec.params ?? {}).map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string', ...(spec.params![name] === 'uuid' ? { format: 'uuid' } : {}) },
    }));
    if (spec.query) {
      const query = jsonSchema(spec.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(spec.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema
          ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } }
          : {}),
      };
    }
    responses.default = { description: 'An error', content: { 'application/json': { schema: ERROR_SCHEMA } } };
    (paths[path] ??= {})[spec.method] = {
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.signedIn ? { security: [{ session: [] }] } : { security: [] }),
      ...(parameters.length ? { parameters } : {}),
      ...(spec.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'glucoboard_session' },
        device: { type: 'http', scheme: 'Device', description: 'Authorization: Device <deviceId>:<token>' },
      },
    },
    paths,
  };
}
