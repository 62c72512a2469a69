import type { ReactElement } from 'react';
import { Text } from 'ink';

export interface FooterProps {
  /** The filter being typed, or undefined when not typing. */
  draft: string | undefined;
  status: string | undefined;
  color: boolean;
  /** How many kinds tab and the digit keys switch between (0 or 1: no switching). */
  switches?: number;
}

/** The keys, or the filter prompt while one is typed; and the last problem, if any. */
export function Footer({ draft, status, color, switches = 0 }: FooterProps): ReactElement {
  const switching = switches > 1 ? `tab/1-${switches} switch · ` : '';
  const keys =
    draft !== undefined
      ? `filter symbol: ${draft}_  (enter apply · esc clear)`
      : `${switching}p pause · / filter · esc clear filter · q quit`;
  return (
    <Text wrap="truncate-end">
      <Text dimColor={color && draft === undefined}>{keys}</Text>
      {status ? (
        <>
          {'  '}
          {color ? <Text color="yellow">{status}</Text> : status}
        </>
      ) : null}
    </Text>
  );
}
