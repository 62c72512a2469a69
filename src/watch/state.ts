/**
 * What the watch screen shows, as a pure reducer: the alerts (newest first), the header's numbers,
 * pause, the symbol filter and the keys. The components only draw it; tests drive it with actions.
 */
import { isoMillis, type WatchAlert } from './alerts.js';
import { magnitude } from './kinds.js';

/** Alerts kept for the table; the header's numbers cover every alert, not only these. */
export const MAX_KEPT_ALERTS = 1_000;
export const RATE_WINDOW_MS = 60_000;

export interface WatchState {
  /** Newest alert_time first. */
  alerts: WatchAlert[];
  received: number;
  /**
   * detected_at (ms) of the alerts raised within the last minute: the alerts/min rate. Not alert_time
   * (a window alert's is the window end, minutes old when written, so the rate would read 0), not
   * arrival (the `--since` backlog arrives at once and would read as a burst).
   */
  recent: number[];
  biggest: WatchAlert | undefined;
  /** While paused: the rows frozen on screen and how many alerts came in since. */
  paused: { alerts: WatchAlert[]; missed: number } | undefined;
  /** The applied symbol filter (a case-insensitive substring); '' for none. */
  filter: string;
  /** The filter being typed after `/` or `f`; undefined when not typing. */
  draft: string | undefined;
  /** Items skipped because they do not parse. */
  skipped: number;
  /** The last problem or note (retrying, throttled); undefined when all is well. */
  status: string | undefined;
  quit: boolean;
}

export interface KeyPress {
  input: string;
  ctrl?: boolean;
  meta?: boolean;
  escape?: boolean;
  return?: boolean;
  backspace?: boolean;
  delete?: boolean;
  tab?: boolean;
  shift?: boolean;
}

export type WatchAction =
  | { type: 'alerts'; alerts: WatchAlert[]; now: number }
  | { type: 'tick'; now: number }
  | { type: 'skipped'; count: number }
  | { type: 'status'; text: string | undefined }
  | { type: 'key'; key: KeyPress };

export const initialWatchState: WatchState = {
  alerts: [],
  received: 0,
  recent: [],
  biggest: undefined,
  paused: undefined,
  filter: '',
  draft: undefined,
  skipped: 0,
  status: undefined,
  quit: false,
};

function newestFirst(a: WatchAlert, b: WatchAlert): number {
  return a.alert_time < b.alert_time ? 1 : a.alert_time > b.alert_time ? -1 : 0;
}

function inWindow(times: number[], now: number): number[] {
  return times.filter((t) => t > now - RATE_WINDOW_MS);
}

function withAlerts(state: WatchState, incoming: WatchAlert[], now: number): WatchState {
  let biggest = state.biggest;
  for (const a of incoming) if (biggest === undefined || magnitude(a) > magnitude(biggest)) biggest = a;
  return {
    ...state,
    alerts: [...incoming, ...state.alerts].sort(newestFirst).slice(0, MAX_KEPT_ALERTS),
    received: state.received + incoming.length,
    recent: inWindow([...state.recent, ...incoming.map((a) => isoMillis(a.detected_at))], now),
    biggest,
    paused: state.paused && { ...state.paused, missed: state.paused.missed + incoming.length },
  };
}

function printable(input: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what must not reach the filter
  return input.replace(/[\u0000-\u001f\u007f]/g, '');
}

function onKey(state: WatchState, key: KeyPress): WatchState {
  if (key.ctrl && key.input === 'c') return { ...state, quit: true };
  if (state.draft !== undefined) {
    if (key.return) return { ...state, filter: state.draft.trim().toUpperCase(), draft: undefined };
    if (key.escape) return { ...state, filter: '', draft: undefined };
    if (key.backspace || key.delete) return { ...state, draft: state.draft.slice(0, -1) };
    if (key.ctrl || key.meta) return state;
    return { ...state, draft: state.draft + printable(key.input) };
  }
  if (key.escape) return { ...state, filter: '' };
  if (key.ctrl || key.meta) return state;
  switch (key.input) {
    case 'q':
      return { ...state, quit: true };
    case 'p':
    case ' ':
      return { ...state, paused: state.paused ? undefined : { alerts: state.alerts, missed: 0 } };
    case '/':
    case 'f':
      return { ...state, draft: state.filter };
    default:
      return state;
  }
}

export function watchReducer(state: WatchState, action: WatchAction): WatchState {
  switch (action.type) {
    case 'alerts':
      return action.alerts.length > 0 ? withAlerts(state, action.alerts, action.now) : state;
    case 'tick': {
      const recent = inWindow(state.recent, action.now);
      return recent.length === state.recent.length ? state : { ...state, recent };
    }
    case 'skipped':
      return action.count === state.skipped ? state : { ...state, skipped: action.count };
    case 'status':
      return action.text === state.status ? state : { ...state, status: action.text };
    case 'key':
      return onKey(state, action.key);
  }
}

/** The rows to draw: the frozen ones while paused, narrowed by the symbol filter. */
export function shownAlerts(state: WatchState): WatchAlert[] {
  const rows = state.paused ? state.paused.alerts : state.alerts;
  return state.filter ? rows.filter((a) => a.symbol.toUpperCase().includes(state.filter)) : rows;
}

/** Alerts raised in the last minute, as of `now`. */
export function alertsPerMinute(state: WatchState, now: number): number {
  return state.recent.filter((t) => t > now - RATE_WINDOW_MS).length;
}
