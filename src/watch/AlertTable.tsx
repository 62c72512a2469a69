import { Fragment, type ReactElement } from 'react';
import { Box, Text } from 'ink';
import type { WatchAlert } from './alerts.js';
import { COLUMNS } from './columns.js';
import { fit } from './format.js';
import type { WatchKind } from './kinds.js';

export interface AlertTableProps {
  kind: WatchKind;
  /** Newest first, already filtered. */
  alerts: readonly WatchAlert[];
  /** Rows that fit under the header; the rest are not drawn. */
  maxRows: number;
  color: boolean;
  /** Said when there is no row to draw. */
  empty: string;
}

/** One line of titles, then one line per alert; every line cut to the terminal's width, never wrapped. */
export function AlertTable({ kind, alerts, maxRows, color, empty }: AlertTableProps): ReactElement {
  const columns = COLUMNS[kind];
  const titles = columns.map((c) => fit(c.title, c.width, c.align)).join(' ');
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end" bold={color}>
        {titles}
      </Text>
      {alerts.length === 0 ? (
        <Text wrap="truncate-end" dimColor={color}>
          {empty}
        </Text>
      ) : (
        alerts.slice(0, Math.max(1, maxRows)).map((alert) => (
          <Text key={alert.alert_id} wrap="truncate-end">
            {columns.map((c, i) => {
              const text = fit(c.cell(alert), c.width, c.align);
              const cellColor = color ? c.color?.(alert) : undefined;
              return (
                <Fragment key={c.title}>
                  {i > 0 ? ' ' : ''}
                  {cellColor ? <Text color={cellColor}>{text}</Text> : text}
                </Fragment>
              );
            })}
          </Text>
        ))
      )}
    </Box>
  );
}
