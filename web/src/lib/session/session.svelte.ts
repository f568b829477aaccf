import { api, ApiError } from '../api';
import type { MeView, TeamRole, TeamView } from '@glucoboard/core/wire';
import { browserStorage, pickTeam, PREFERENCE_KEYS, readTeam, write } from '../preferences/storage';

/**
 * Who is signed in, the teams she may look at (GET /api/teams: her own; every team for a sysadmin)
 * and the team she is looking at, remembered in the browser. Nothing here is trusted by the
 * server: it decides access on every request.
 */
class Session {
  me = $state<MeView | null>(null);
  teams = $state<TeamView[]>([]);
  teamId = $state<string | null>(null);

  readonly team = $derived(this.teams.find((t) => t.id === this.teamId) ?? null);
  /** The user's role in the current team (null: not a member, e.g. a sysadmin looking in). */
  readonly role = $derived<TeamRole | null>(this.me?.teams.find((t) => t.id === this.teamId)?.role ?? null);
  readonly isMember = $derived(this.role !== null);
  readonly canAdminister = $derived(this.me !== null && (this.me.sysadmin || this.role === 'admin'));
  readonly canAdministerAny = $derived(
    this.me !== null && (this.me.sysadmin || this.me.teams.some((t) => t.role === 'admin')),
  );

  /** Reads the session; null when nobody is signed in. Teams are read again when the user changed. */
  async load(fetcher?: typeof fetch): Promise<MeView | null> {
    let me: MeView;
    try {
      me = await api.me(fetcher);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        this.clear();
        return null;
      }
      throw err;
    }
    const changed = this.me?.id !== me.id;
    this.me = me;
    if (changed || this.teams.length === 0) await this.refreshTeams();
    return me;
  }

  async refreshTeams(): Promise<void> {
    this.teams = await api.teams();
    this.teamId = pickTeam(this.teams, this.teamId ?? readTeam(browserStorage()))?.id ?? null;
  }

  setTeam(teamId: string): void {
    this.teamId = teamId;
    write(browserStorage(), PREFERENCE_KEYS.team, teamId);
  }

  async signOut(): Promise<void> {
    try {
      await api.logout();
    } finally {
      this.clear();
    }
  }

  clear(): void {
    this.me = null;
    this.teams = [];
    this.teamId = null;
  }
}

export const session = new Session();
