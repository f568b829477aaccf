import type { AccessReach, ReviewReason } from '@glucoboard/core/domain';
import type { MessageKey } from '$lib/i18n/translate';
import { sv } from '$lib/i18n/features/audit';

/**
 * An audit action in words ("Opened the patient's record"); an action without words of its own
 * (a new one, or an administrative one) is shown as its code, which the docs list.
 */
export function actionKey(action: string): MessageKey | null {
  const key = `audit.action.${action}`;
  return Object.hasOwn(sv, key) ? (key as MessageKey) : null;
}

export const reachKey = (reach: AccessReach): MessageKey => `audit.reach.${reach}`;
export const reasonKey = (reason: ReviewReason): MessageKey => `audit.review.reason.${reason}`;
export const outcomeKey = (outcome: string): MessageKey | null =>
  outcome === 'success' || outcome === 'failure' || outcome === 'denied' ? `audit.outcome.${outcome}` : null;
