/**
 * Several alert kinds on one screen, one shown at a time: a WatchState per kind (its own rows, header
 * figures, pause and filter), and the keys that switch between them (tab and shift-tab, or 1/2/3 in the
 * order of WATCH_KINDS). Incoming alerts go to their kind's view by their alert_type. Pure, like state.ts.
 */
import { KIND_ALERT_TYPE, WATCH_KINDS, type WatchKind } from './kinds.js';
import { initialWatchState, watchReducer, type WatchAction, type WatchState } from './state.js';

export interface TabsState {
  /** The kinds on screen, in WATCH_KINDS order. */
  kinds: readonly WatchKind[];
  active: WatchKind;
  views: Record<WatchKind, WatchState>;
  quit: boolean;
}

export function initialTabs(kinds: readonly WatchKind[], active: WatchKind): TabsState {
  const shown = WATCH_KINDS.filter((k) => k === active || kinds.includes(k));
  const views = Object.fromEntries(WATCH_KINDS.map((k) => [k, initialWatchState])) as Record<WatchKind, WatchState>;
  return { kinds: shown, active, views, quit: false };
}

function kindOf(alertType: string): WatchKind | undefined {
  return WATCH_KINDS.find((k) => KIND_ALERT_TYPE[k] === alertType);
}

function everyView(state: TabsState, action: WatchAction): TabsState {
  const views = { ...state.views };
  for (const k of state.kinds) views[k] = watchReducer(views[k], action);
  return { ...state, views };
}

/** The kind a key switches to, or undefined when the key is not a switch. */
function switchTo(state: TabsState, key: Extract<WatchAction, { type: 'key' }>['key']): WatchKind | undefined {
  if (state.kinds.length < 2 || key.ctrl || key.meta) return undefined;
  const at = state.kinds.indexOf(state.active);
  if (key.tab) return state.kinds[(at + (key.shift ? state.kinds.length - 1 : 1)) % state.kinds.length];
  if (/^[1-9]$/.test(key.input)) return state.kinds[Number(key.input) - 1];
  return undefined;
}

export function tabsReducer(state: TabsState, action: WatchAction): TabsState {
  switch (action.type) {
    case 'alerts': {
      const views = { ...state.views };
      for (const k of state.kinds) {
        const mine = action.alerts.filter((a) => kindOf(a.alert_type) === k);
        if (mine.length > 0) views[k] = watchReducer(views[k], { ...action, alerts: mine });
      }
      return { ...state, views };
    }
    case 'tick':
    case 'skipped':
    case 'status':
      return everyView(state, action);
    case 'key': {
      const view = state.views[state.active];
      // While a filter is typed, every key is text for it (1, 2 and 3 included).
      const to = view.draft === undefined ? switchTo(state, action.key) : undefined;
      if (to !== undefined) return to === state.active ? state : { ...state, active: to };
      const next = watchReducer(view, action);
      return { ...state, views: { ...state.views, [state.active]: next }, quit: next.quit };
    }
  }
}
