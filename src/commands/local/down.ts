/** `coattail local down`: stops the local emulators `local up` started; exits 0 whether or not anything ran. */
import path from 'node:path';
import type { CommandContext } from '../../core/context.js';
import { EMULATOR_STOP_GRACE_MS } from '../../local/emulators.js';
import { stopProcess } from '../../local/processes.js';
import { EMULATOR_LABELS, EMULATORS, isEmulatorProcess, nowIso, readLocalState, writeLocalState } from '../../local/state.js';

export interface LocalDownOptions {
  stateDir: string;
}

export async function localDown(opts: LocalDownOptions, ctx: CommandContext): Promise<number> {
  const stateDir = path.resolve(ctx.cwd, opts.stateDir);
  const state = readLocalState(stateDir);
  if (!state) {
    ctx.stderr.write('nothing running\n');
    return 0;
  }
  const stopped: string[] = [];
  await Promise.all(
    EMULATORS.map(async (name) => {
      const pid = state[name].pid;
      if (isEmulatorProcess(name, pid)) {
        ctx.logger.debug(`stopping the ${EMULATOR_LABELS[name]}`, { pid });
        await stopProcess(pid, EMULATOR_STOP_GRACE_MS[name]);
        stopped.push(`${name} (pid ${pid})`);
      } else if (pid) {
        // Gone already, or the pid now belongs to another program: never signal it.
        ctx.logger.debug(`the ${EMULATOR_LABELS[name]} is not running; pid ${pid} left alone`, { pid });
      }
      state[name].pid = null;
      state[name].started_at = null;
    }),
  );
  state.updated_at = nowIso(ctx);
  writeLocalState(stateDir, state);
  ctx.stderr.write(stopped.length ? `stopped ${stopped.sort().join(', ')}\n` : 'nothing running\n');
  return 0;
}
