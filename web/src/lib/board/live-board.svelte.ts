import { isLive, mergeAlert, mergeAlerts, NO_ALERTS, NO_IDS, shouldCue, withId, withoutId } from '../alerts/inbox';
import { api } from '../api';
import type { AlertView, BoardReading, BoardView } from '@glucoboard/core/wire';
import { applyReading } from './rows';
import { i18n } from '../i18n/language.svelte';
import { LiveLink } from '../live/link.svelte';

/** How long a new critical alert stays highlighted. */
export const CUE_MS = 10_000;
/** Patient changes come in bursts (an import, an admin editing); one resync covers a burst. */
const PATIENT_UPDATE_DEBOUNCE_MS = 1_000;
/** How long the first paint waits for the socket (whose connect asks for the board anyway). */
const FIRST_PAINT_WAIT_MS = 1_500;
/**
 * Live events carry readings, not the 14-day statistics: the board asks for the whole answer again
 * this often, so a row's time in range follows its values. Not more often: every answer is an
 * audited read of every patient on the board.
 */
const STATISTICS_REFRESH_MS = 5 * 60_000;
/** Clock skew allowance between the server's `updatedAt` and this browser's clock. */
const SKEW_MS = 60_000;

export interface LiveBoardOptions {
  /** A new critical alert that paged the team: sound it and announce it. */
  onCue(alert: AlertView): void;
  /** The socket was refused or dropped by the server: the session may be over. */
  onRefused(): void;
}

/**
 * One team's live board: the answer of GET /api/board kept current by the `/board` socket, and the
 * team's live alerts (GET /api/alerts) kept current by the `alert` and `alert:updated` events.
 * After every (re)connect both are asked for again, so an alert raised while the socket was down is
 * never missed; events that arrive while those answers are on their way are applied again on top.
 */
export class LiveBoard {
  board = $state<BoardView | null>(null);
  alerts = $state<ReadonlyMap<string, AlertView>>(NO_ALERTS);
  cues = $state<ReadonlySet<string>>(NO_IDS);
  error = $state<string | null>(null);
  loading = $state(false);

  readonly link: LiveLink;
  readonly #teamId: string;
  readonly #options: LiveBoardOptions;
  /** Readings heard while a resync is on its way, applied again to its answer. */
  #pending: BoardReading[] | null = null;
  #resyncs = 0;
  #patientTimer: ReturnType<typeof setTimeout> | undefined;
  #cueTimers: Array<ReturnType<typeof setTimeout>> = [];
  #closed = false;
  #firstPaint: ReturnType<typeof setTimeout> | undefined;
  #refresh: ReturnType<typeof setInterval> | undefined;

  constructor(teamId: string, options: LiveBoardOptions) {
    this.#teamId = teamId;
    this.#options = options;
    this.link = new LiveLink({
      onConnect: () => void this.resync(),
      onReading: (reading) => this.#reading(reading),
      onAlert: (alert) => this.#alert(alert),
      onPatientUpdated: () => this.#patientUpdated(),
      onRefused: () => options.onRefused(),
    });
    // The socket's connect brings the first answer; if it is slow to come, the board does not wait.
    this.#firstPaint = setTimeout(() => {
      if (this.board === null && !this.loading) void this.resync();
    }, FIRST_PAINT_WAIT_MS);
    this.#refresh = setInterval(() => {
      if (this.board !== null && !this.loading) void this.resync({ quiet: true });
    }, STATISTICS_REFRESH_MS);
  }

  /** The team's live alerts, including those escalated to it. */
  readonly liveAlerts = $derived([...this.alerts.values()].filter(isLive));

  /** `quiet`: a background refresh, shown without a loading state. */
  async resync(options: { quiet?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    const run = ++this.#resyncs;
    const since = Date.now() - SKEW_MS;
    const first = this.board === null;
    this.#pending ??= [];
    if (!options.quiet) this.loading = true;
    try {
      const [board, alerts] = await Promise.all([
        api.board(this.#teamId),
        api.alerts({ teamId: this.#teamId, state: 'live', limit: 1000 }),
      ]);
      if (this.#closed || run !== this.#resyncs) return;
      const now = Date.now();
      let patients = board.patients;
      for (const reading of this.#pending ?? []) {
        patients = patients.map((row) => applyReading(row, reading, board, now));
      }
      this.#pending = null;
      const known = this.alerts;
      this.board = { ...board, patients };
      this.alerts = mergeAlerts(known, alerts, since);
      if (!first) for (const alert of alerts) if (shouldCue(known.get(alert.id), alert)) this.#cue(alert);
      this.error = null;
    } catch (err) {
      if (run === this.#resyncs) {
        this.#pending = null;
        this.error = i18n.error(err);
      }
    } finally {
      if (run === this.#resyncs) this.loading = false;
    }
  }

  /** After an acknowledgement or resolution of ours: show it at once (the event follows). */
  update(alert: AlertView): void {
    this.alerts = mergeAlert(this.alerts, alert);
  }

  #reading(reading: BoardReading): void {
    if (reading.teamId !== this.#teamId) return;
    this.#pending?.push(reading);
    const board = this.board;
    if (!board) return;
    const now = Date.now();
    this.board = {
      ...board,
      patients: board.patients.map((row) =>
        row.id === reading.patientId ? applyReading(row, reading, board, now) : row,
      ),
    };
  }

  #alert(alert: AlertView): void {
    const ours = alert.teamId === this.#teamId || (alert.escalated && alert.escalationTeamId === this.#teamId);
    if (!ours) return;
    const previous = this.alerts.get(alert.id);
    this.alerts = mergeAlert(this.alerts, alert);
    if (this.alerts.get(alert.id) === alert && shouldCue(previous, alert)) this.#cue(alert);
  }

  #cue(alert: AlertView): void {
    this.cues = withId(this.cues, alert.id);
    this.#options.onCue(alert);
    const timer = setTimeout(() => {
      this.#cueTimers = this.#cueTimers.filter((t) => t !== timer);
      this.cues = withoutId(this.cues, alert.id);
    }, CUE_MS);
    this.#cueTimers.push(timer);
  }

  #patientUpdated(): void {
    clearTimeout(this.#patientTimer);
    this.#patientTimer = setTimeout(() => void this.resync(), PATIENT_UPDATE_DEBOUNCE_MS);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#firstPaint);
    clearInterval(this.#refresh);
    clearTimeout(this.#patientTimer);
    for (const timer of this.#cueTimers) clearTimeout(timer);
    this.link.close();
  }
}
