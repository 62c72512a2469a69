/** What the demo hands to its caller's hooks: the live view, and a look at the store before it stops. */
import type { CommandContext } from '../core/context.js';

/** Where the demo's emulators answer, and what it created there. */
export interface DemoStoreEnv {
  region: string;
  kinesisEndpoint: string;
  dynamodbEndpoint: string;
  stream: string;
  alertsTable: string;
}

export interface DemoUiEnv extends DemoStoreEnv {
  /**
   * The context the view runs with: the demo's stdout, stderr and environment, a logger that writes
   * only to the demo's log file, and a signal that aborts when the demo ends for another reason
   * (--duration, the end of a bounded scenario, a failed job, SIGINT/SIGTERM). The view returns when
   * the user quits it or that signal aborts; either ends the demo.
   */
  ctx: CommandContext;
  /** When the market opened, epoch ms: every alert in the store is from then on. */
  sinceMs: number;
}

export interface DemoHooks {
  /** The live view (`coattail watch whales`); without it the demo runs headless. */
  ui?: (env: DemoUiEnv) => Promise<void>;
  /** Runs once the jobs have stopped and before the emulators do: the store can still be read. */
  beforeStop?: (env: DemoStoreEnv) => Promise<void>;
}
