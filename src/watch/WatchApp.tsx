import { useEffect, useReducer, useState, type ReactElement } from 'react';
import { Box, useApp, useInput, useStdin, useStdout } from 'ink';
import { AlertTable } from './AlertTable.js';
import type { AlertFeed } from './feed.js';
import { Footer } from './Footer.js';
import { Header, type WatchSettings } from './Header.js';
import type { WatchKind } from './kinds.js';
import { alertsPerMinute, shownAlerts } from './state.js';
import { initialTabs, tabsReducer } from './tabs.js';

export interface WatchAppProps {
  /** The kind shown first. */
  kind: WatchKind;
  /** Every kind the view can switch to (tab, 1/2/3); just `kind` when absent. */
  kinds?: readonly WatchKind[];
  feed: AlertFeed;
  settings: WatchSettings;
  color: boolean;
  /** The clock for alerts/min; tests fix it. */
  now?: () => number;
  /** How often alerts/min is brought up to date when nothing arrives. */
  tickMs?: number;
  /** Called once when the user quits (q, Ctrl-C), just before the app exits. */
  onQuit?: () => void;
}

/** Lines that are not alert rows: two of header, the titles, the footer, and one spare (and the tabs' line). */
const CHROME_LINES = 5;
const DEFAULT_ROWS = 24;

/** The terminal's height, kept up to date on resize. */
function useTerminalRows(): number {
  const { stdout } = useStdout();
  const [rows, setRows] = useState(stdout.rows ?? DEFAULT_ROWS);
  useEffect(() => {
    const onResize = (): void => setRows(stdout.rows ?? DEFAULT_ROWS);
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return rows;
}

/**
 * The live view: header, alert table, footer; keys p/space pause, / or f filter, esc clear, q quit; with
 * several kinds, tab (shift-tab back) or 1/2/3 switch between them, each with its own rows and figures.
 */
export function WatchApp(props: WatchAppProps): ReactElement {
  const { feed, settings, color, now = Date.now, tickMs = 1_000, onQuit } = props;
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const [tabs, dispatch] = useReducer(tabsReducer, undefined, () => initialTabs(props.kinds ?? [props.kind], props.kind));
  const rows = useTerminalRows();
  const kind = tabs.active;
  const state = tabs.views[kind];

  useEffect(
    () =>
      feed.subscribe((event) => {
        if (event.type === 'alerts') dispatch({ type: 'alerts', alerts: event.alerts, now: now() });
        else dispatch(event);
      }),
    [feed, now],
  );

  useEffect(() => {
    const timer = setInterval(() => dispatch({ type: 'tick', now: now() }), tickMs);
    return () => clearInterval(timer);
  }, [now, tickMs]);

  // Keys need raw mode; without a terminal on stdin the view still runs and Ctrl-C arrives as SIGINT.
  useInput(
    (input, key) =>
      dispatch({
        type: 'key',
        key: {
          input,
          ctrl: key.ctrl,
          meta: key.meta,
          escape: key.escape,
          return: key.return,
          backspace: key.backspace,
          delete: key.delete,
          tab: key.tab,
          shift: key.shift,
        },
      }),
    { isActive: isRawModeSupported === true },
  );

  useEffect(() => {
    if (!tabs.quit) return;
    onQuit?.();
    exit();
  }, [tabs.quit, onQuit, exit]);

  const shown = shownAlerts(state);
  const empty = state.filter && state.alerts.length > 0 ? `no alert matches the filter ${state.filter}` : `waiting for ${kind}…`;
  return (
    <Box flexDirection="column">
      <Header
        kind={kind}
        tabs={tabs.kinds.length > 1 ? tabs.kinds.map((k) => ({ kind: k, received: tabs.views[k].received })) : undefined}
        settings={settings}
        perMinute={alertsPerMinute(state, now())}
        biggest={state.biggest}
        received={state.received}
        shown={shown.length}
        paused={state.paused}
        filter={state.filter}
        skipped={state.skipped}
        color={color}
      />
      <AlertTable kind={kind} alerts={shown} maxRows={rows - CHROME_LINES - (tabs.kinds.length > 1 ? 1 : 0)} color={color} empty={empty} />
      <Footer draft={state.draft} status={state.status} color={color} switches={tabs.kinds.length > 1 ? tabs.kinds.length : 0} />
    </Box>
  );
}
