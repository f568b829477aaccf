import { publishToBoards, type BoardMessage } from '@glucoboard/core/platform';
import type { ApiDependencies } from './context.ts';

/**
 * A change made through the API, to every board that shows it (through the board events stream,
 * like the workers' alerts). The change is committed whatever Redis does: a board that missed the
 * event resyncs when it reconnects, so a failure here is logged, not answered.
 */
export async function tellBoards(
  deps: Pick<ApiDependencies, 'redis' | 'redisPrefix' | 'log'>,
  message: BoardMessage,
): Promise<void> {
  await publishToBoards(deps.redis, deps.redisPrefix, [message]).catch((err: Error) =>
    deps.log.warn({ err: err.message, event: message.event }, 'board event not published; boards resync'),
  );
}
