import { describe, expect, it } from 'vitest';
import { ApiError, errorOf, query, request } from '../src/lib/api/http';

describe('the API client', () => {
  const answer = (status: number, body: unknown) => async () =>
    new Response(body === undefined ? null : JSON.stringify(body), { status });

  it("turns the server's error into an ApiError with code, message and field", async () => {
    const refused = request(
      'POST',
      '/api/x',
      {},
      { fetcher: answer(409, { error: { code: 'ALREADY_ACKNOWLEDGED', message: 'already acknowledged by Anna' } }) },
    );
    await expect(refused).rejects.toMatchObject({
      status: 409,
      code: 'ALREADY_ACKNOWLEDGED',
      message: 'already acknowledged by Anna',
    });
    expect(errorOf(400, { error: { code: 'VALIDATION_FAILED', message: 'm', field: 'low' } }).field).toBe('low');
    expect(errorOf(502, 'gateway')).toMatchObject({ code: 'HTTP_502', message: 'HTTP 502' });
  });

  it('answers bodies, nothing for 204, and NETWORK when no answer came', async () => {
    expect(await request('GET', '/api/x', undefined, { fetcher: answer(200, { ok: 1 }) })).toEqual({ ok: 1 });
    expect(await request('DELETE', '/api/x', undefined, { fetcher: answer(204, undefined) })).toBeUndefined();
    const offline = request('GET', '/api/x', undefined, {
      fetcher: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    await expect(offline).rejects.toBeInstanceOf(ApiError);
    await expect(offline).rejects.toMatchObject({ status: 0, code: 'NETWORK' });
    expect(query({ teamId: 'a b', state: undefined, limit: 5 })).toBe('?teamId=a+b&limit=5');
    expect(query({})).toBe('');
  });
});
