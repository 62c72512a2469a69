import type { ReactElement } from 'react';
import { Box, Text } from 'ink';
import type { WatchAlert } from './alerts.js';
import { sideColor } from './columns.js';
import { formatDecimal, formatWhole } from './format.js';
import { quoteAsset, type WatchKind } from './kinds.js';

/** The command line's choices, shown so the screen says what it is filtering. */
export interface WatchSettings {
  /** As typed: `15m`. */
  since: string;
  symbols: readonly string[];
  /** Undefined when not given, or when it does not apply (spreads). */
  minUsd: number | undefined;
}

export interface HeaderProps {
  kind: WatchKind;
  /** With several kinds on screen: each one's alerts so far, in key order (1, 2, 3). */
  tabs?: ReadonlyArray<{ kind: WatchKind; received: number }> | undefined;
  settings: WatchSettings;
  perMinute: number;
  biggest: WatchAlert | undefined;
  received: number;
  shown: number;
  paused: { missed: number } | undefined;
  filter: string;
  skipped: number;
  color: boolean;
}

const BIGGEST_LABEL: Record<WatchKind, string> = { whales: 'biggest', anomalies: 'highest z', spreads: 'widest' };

function Biggest({ alert, color }: { alert: WatchAlert | undefined; color: boolean }): ReactElement {
  if (!alert) return <Text>-</Text>;
  switch (alert.alert_type) {
    case 'whale':
      return (
        <Text>
          {formatWhole(alert.quote_volume)} {quoteAsset(alert)} {alert.symbol}{' '}
          {color ? <Text color={sideColor(alert.side)}>{alert.side}</Text> : alert.side}
        </Text>
      );
    case 'volume_anomaly':
      return <Text>{`${formatDecimal(alert.z_score, 2)} ${alert.symbol} ${alert.exchange ?? ''}`.trimEnd()}</Text>;
    case 'spread':
      return <Text>{`${formatDecimal(alert.spread_pct, 3)}% ${alert.symbol} ${alert.high_exchange}>${alert.low_exchange}`}</Text>;
  }
}

/** The kinds to switch between, the shown one marked: `[1 WHALES 3]  2 anomalies 0  3 spreads 1`. */
function Tabs({ tabs, active, color }: { tabs: NonNullable<HeaderProps['tabs']>; active: WatchKind; color: boolean }): ReactElement {
  return (
    <Text wrap="truncate-end">
      {tabs.map((t, i) => {
        const on = t.kind === active;
        const label = `${i + 1} ${on ? t.kind.toUpperCase() : t.kind} ${t.received}`;
        return (
          <Text key={t.kind}>
            {i > 0 ? '  ' : ''}
            {color ? (
              <Text inverse={on} dimColor={!on}>
                {` ${label} `}
              </Text>
            ) : on ? (
              `[${label}]`
            ) : (
              ` ${label} `
            )}
          </Text>
        );
      })}
    </Text>
  );
}

/** Two lines: what is watched and its numbers; then the filters in force and what is shown (below the tabs, if any). */
export function Header(props: HeaderProps): ReactElement {
  const { settings, color } = props;
  const state = props.paused ? `PAUSED (${props.paused.missed} new)` : 'LIVE';
  const filters = [
    `since ${settings.since}`,
    `symbols ${settings.symbols.length > 0 ? settings.symbols.join(',') : 'all'}`,
    ...(settings.minUsd !== undefined ? [`min ${formatWhole(settings.minUsd)} USD`] : []),
    ...(props.filter ? [`filter ${props.filter}`] : []),
    `${props.shown} shown of ${props.received}`,
    ...(props.skipped > 0 ? [`${props.skipped} skipped`] : []),
  ];
  return (
    <Box flexDirection="column">
      {props.tabs ? <Tabs tabs={props.tabs} active={props.kind} color={color} /> : null}
      <Text wrap="truncate-end">
        <Text bold={color}>{props.kind.toUpperCase()}</Text>
        {` · ${props.perMinute} alerts/min · ${BIGGEST_LABEL[props.kind]} `}
        <Biggest alert={props.biggest} color={color} />
        {' · '}
        {color ? <Text color={props.paused ? 'yellow' : 'green'}>{state}</Text> : state}
      </Text>
      <Text wrap="truncate-end" dimColor={color}>
        {filters.join(' · ')} · times UTC
      </Text>
    </Box>
  );
}
