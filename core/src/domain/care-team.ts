/** A member's role in a care team (SPEC section 3): what the access rules decide on, per team. */
export const TEAM_ROLES = ['nurse', 'physician', 'admin'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];
