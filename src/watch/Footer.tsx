import type { ReactElement } from 'react';
import { Text } from 'ink';

export interface FooterProps {
  /** The filter being typed, or undefined when not typing. */
  draft: string | undefined;
  status: string | undefined;
  color: boolean;
}

/** The keys, or the filter prompt while one is typed; and the last problem, if any. */
export function Footer({ draft, status, color }: FooterProps): ReactElement {
  const keys =
    draft !== undefined ? `filter symbol: ${draft}_  (enter apply · esc clear)` : 'p pause · / filter · esc clear filter · q quit';
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
