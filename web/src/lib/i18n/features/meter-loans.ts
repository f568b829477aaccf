/**
 * Messages of one feature, kept apart so each feature's words change on their own. `sv` is the
 * reference (its keys join the app's message keys); `en` must have exactly the same keys.
 */
export const sv = {} as const;

export const en: Record<keyof typeof sv, string> = {};
