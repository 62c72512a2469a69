/** A setting's value and where it came from, as `config show` prints it. */
export interface Sourced {
  value: string;
  /** `flag`, `env (AWS_REGION)`, `file (path, env prod)`, `profile (name)` or `default`. */
  source: string;
}

/**
 * A flag that commander may have filled from its environment variable: when the value is the variable's,
 * the variable is named as its source (a flag given with the same value changes nothing).
 */
export function flagOrEnv(value: string | undefined, variable: string, env: NodeJS.ProcessEnv): Sourced | undefined {
  if (value !== undefined && value !== '') return { value, source: env[variable] === value ? `env (${variable})` : 'flag' };
  const fromEnv = env[variable];
  return fromEnv ? { value: fromEnv, source: `env (${variable})` } : undefined;
}
