/**
 * A user-facing error: what failed, why, and what to do. The entry point prints it as one line
 * and exits with `exitCode`; it is never shown with a stack trace.
 */
export class CoattailError extends Error {
  constructor(
    readonly what: string,
    readonly why: string,
    readonly fix: string,
    readonly exitCode = 1,
  ) {
    super(`${what}: ${why}. ${fix}`);
    this.name = 'CoattailError';
  }

  line(): string {
    return `coattail: ${this.what}: ${this.why}. ${this.fix.charAt(0).toUpperCase()}${this.fix.slice(1)}`;
  }
}

export function usageError(what: string, why: string, fix: string): CoattailError {
  return new CoattailError(what, why, fix, 2);
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
