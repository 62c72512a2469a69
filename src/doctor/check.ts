/** One line of `coattail doctor`: what was checked, whether it is fine, what was found, and the fix when not. */
export interface CheckResult {
  check: string;
  ok: boolean;
  detail: string;
  /** What to do; empty when ok. */
  fix: string;
  /** Nothing to check (no region, `--local`, a setting not given): counts as ok. */
  skipped?: boolean;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

export function pass(check: string, detail: string): CheckResult {
  return { check, ok: true, detail, fix: '' };
}

export function fail(check: string, detail: string, fix: string): CheckResult {
  return { check, ok: false, detail, fix };
}

export function skip(check: string, detail: string): CheckResult {
  return { check, ok: true, detail: `skipped: ${detail}`, fix: '', skipped: true };
}

/** Runs one check; one that throws is a ✗ with its message, one that does not answer in time a ✗ too, so doctor never hangs. */
export async function runCheck(
  check: string,
  timeoutMs: number,
  fix: string,
  body: (signal: AbortSignal) => Promise<CheckResult>,
): Promise<CheckResult> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve(fail(check, `no answer within ${Math.round(timeoutMs / 1000)}s`, fix));
    }, timeoutMs);
  });
  try {
    return await Promise.race([body(abort.signal).catch((err: unknown) => fail(check, describe(err), fix)), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
    return `${name}${err.message || 'failed'}`.replace(/\s*\n\s*/g, ' ');
  }
  return String(err);
}
