/**
 * Which credentials an AWS client signs with. The local emulators accept any, so they get stand-ins and
 * nobody needs an AWS account for them; every other endpoint (AWS itself, a VPC endpoint) goes through
 * the SDK's default chain: the environment, a profile, SSO, the ECS task role, the instance role.
 */
import { isIP } from 'node:net';

/** What the local emulators are signed with. */
export const STAND_IN_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface CredentialChoice {
  /** The client's endpoint; unset for AWS's own. */
  endpoint?: string | undefined;
  /** The command runs against the local emulators (`--local`, or the demo's own). */
  local?: boolean | undefined;
}

/** 127.0.0.0/8, ::1 and localhost: an endpoint on this machine. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host) || /^::ffff:7f[0-9a-f]{2}:/.test(host);
  return false;
}

/**
 * The stand-ins for `--local`, and for a loopback endpoint unless credentials are configured
 * (AWS_ACCESS_KEY_ID or AWS_PROFILE: a tunnel to AWS, say); undefined means the SDK's default chain.
 */
export function standInCredentials(choice: CredentialChoice, env: NodeJS.ProcessEnv): typeof STAND_IN_CREDENTIALS | undefined {
  if (choice.local) return STAND_IN_CREDENTIALS;
  if (!choice.endpoint || !isLoopbackEndpoint(choice.endpoint)) return undefined;
  if (env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE) return undefined;
  return STAND_IN_CREDENTIALS;
}
