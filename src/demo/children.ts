/**
 * The processes a demo starts, so that none outlives it. Each is spawned detached (its own process
 * group), so a terminal's Ctrl-C reaches only `coattail`, which then stops them in order. If
 * `coattail` is made to exit at once (a second Ctrl-C), the `exit` hook SIGKILLs every group left.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isProcessAlive } from '../local/processes.js';

interface Entry {
  label: string;
}

const hasProcfs = existsSync('/proc/self/stat');

/** Live (not zombie) processes whose process group is `pgid`; on systems without /proc, the leader only. */
export function groupMembers(pgid: number): number[] {
  if (!hasProcfs) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // After the parenthesised command (which may hold spaces): state, ppid, pgrp, ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') members.push(Number(name));
  }
  return members;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* the group is gone already */
  }
}

/**
 * SIGKILLs the group, then waits (bounded) until no live member is left. A group that never empties
 * would be a process in uninterruptible sleep; it is reported rather than waited on forever.
 */
export async function killGroupAndWait(pgid: number, timeoutMs = 5_000): Promise<number[]> {
  killGroup(pgid, 'SIGKILL');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = groupMembers(pgid);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the group has no live member, or the time is up; true when it emptied. */
export async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupMembers(pgid).length > 0) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

export class ChildGroups {
  private readonly groups = new Map<number, Entry>();
  private readonly onExit = (): void => this.killAllNow();

  constructor() {
    process.on('exit', this.onExit);
  }

  /** Records a detached child: its pid is its process group id. */
  add(pid: number | undefined, label: string): void {
    if (pid) this.groups.set(pid, { label });
  }

  forget(pid: number | undefined): void {
    if (pid) this.groups.delete(pid);
  }

  labels(): string[] {
    return [...this.groups.values()].map((e) => e.label);
  }

  /** Synchronous, for the `exit` hook: every group still recorded gets SIGKILL. */
  killAllNow(): void {
    for (const pgid of this.groups.keys()) {
      if (isProcessAlive(pgid) || groupMembers(pgid).length > 0) killGroup(pgid, 'SIGKILL');
    }
    this.groups.clear();
  }

  dispose(): void {
    process.off('exit', this.onExit);
  }
}
