import { describe, expect, it } from 'vitest';
import { durationOption, formatDuration, parseDuration, SPAN, type DurationRange } from '../../src/core/duration.js';
import { CoattailError } from '../../src/core/errors.js';

describe('the duration syntax', () => {
  it.each([
    // bare numbers are seconds
    ['90', 90_000],
    ['0', 0],
    ['2592000', 2_592_000_000], // 30 days: 30 × 86,400 s
    // units
    ['30s', 30_000],
    ['15m', 900_000], // 15 × 60 s
    ['2h', 7_200_000], // 2 × 3,600 s
    ['1d', 86_400_000], // 24 × 3,600 s
    ['365d', 31_536_000_000], // 365 × 86,400 s
    // fractions, rounded to the millisecond
    ['1.5s', 1_500],
    ['0.25', 250],
    ['1.5h', 5_400_000], // 90 minutes
    ['0.1s', 100],
    ['0.0004s', 0], // 0.4 ms rounds down
    ['0.0006', 1], // 0.6 ms rounds up
    // whitespace around is ignored
    [' 15m ', 900_000],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', ' ', 'soon', '15 m', '15M', '2H', '1e3', '-5', '+5', '.5', '5.', '15ms', '1w', '1h30m', 'Infinity', '0x10', 's', '1,5s'])(
    '%j is not a duration',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  it('writes a duration in the largest whole unit', () => {
    expect(formatDuration(31_536_000_000)).toBe('365d');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(5_400_000)).toBe('90m');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(100)).toBe('0.1s');
    expect(formatDuration(0)).toBe('0s');
  });
});

describe('a duration option', () => {
  const run: DurationRange = { ...SPAN, example: '15m' };
  const stats: DurationRange = { min: 100, max: 86_400_000, zeroIsOff: true, example: '10s' };

  function line(flag: string, text: string, range: DurationRange): string {
    try {
      durationOption(flag, text, range);
    } catch (err) {
      expect(err).toBeInstanceOf(CoattailError);
      expect((err as CoattailError).exitCode).toBe(2);
      return (err as CoattailError).line();
    }
    throw new Error(`${flag} ${text} was accepted`);
  }

  it('gives milliseconds within the range, bounds included', () => {
    expect(durationOption('--duration', '15m', run)).toBe(900_000);
    expect(durationOption('--duration', '1', run)).toBe(1_000);
    expect(durationOption('--duration', '365d', run)).toBe(31_536_000_000);
    expect(durationOption('--stats-interval', '0', stats)).toBe(0);
    expect(durationOption('--stats-interval', '0.1', stats)).toBe(100);
  });

  it.each([
    [
      '--duration',
      'soon',
      run,
      "coattail: --duration 'soon' is not a duration: write seconds (90) or a number with s, m, h or d (30s, 15m, 2h, 1d). Pass e.g. --duration 15m",
    ],
    ['--duration', '366d', run, 'coattail: --duration 366d is out of range: it must be from 1s to 365d. Pass e.g. --duration 15m'],
    ['--duration', '0.5', run, 'coattail: --duration 0.5 is out of range: it must be from 1s to 365d. Pass e.g. --duration 15m'],
    ['--duration', '0', run, 'coattail: --duration 0 is out of range: it must be from 1s to 365d. Pass e.g. --duration 15m'],
    ['--since', '200000000d', run, 'coattail: --since 200000000d is out of range: it must be from 1s to 365d. Pass e.g. --since 15m'],
    [
      '--since',
      '9'.repeat(400),
      run,
      `coattail: --since ${'9'.repeat(400)} is out of range: it must be from 1s to 365d. Pass e.g. --since 15m`,
    ],
    [
      '--stats-interval',
      '0.05',
      stats,
      'coattail: --stats-interval 0.05 is out of range: it must be 0 (off) or from 0.1s to 1d. Pass e.g. --stats-interval 10s',
    ],
    [
      '--stats-interval',
      '3000000',
      stats,
      'coattail: --stats-interval 3000000 is out of range: it must be 0 (off) or from 0.1s to 1d. Pass e.g. --stats-interval 10s',
    ],
  ])('%s %s is refused with one line', (flag, text, range, expected) => {
    expect(line(flag, text, range)).toBe(expected);
  });
});
