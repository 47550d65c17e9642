import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Gives the calling thread a lower CPU priority (nice 10), so that when both want the CPU, the
 * login thread wins it. On Linux the nice value belongs to each thread, and a thread's id (from
 * `/proc/thread-self`) can be passed to setpriority(2). Elsewhere, or if it is refused, nothing
 * changes: the thread then merely competes as an equal.
 */
export function lowerThreadPriority(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, 10);
    return true;
  } catch {
    return false;
  }
}
