import type { PrewarmRun } from '../../store/types.js';
import { terminalSafe } from '../terminal-text.js';

/** One line of progress for a terminal: a bar over the groups walked, and the counters. */
export function progressLine(run: PrewarmRun, width = 24): string {
  const total = run.details.groupsTotal;
  const done = run.figures.groups;
  const share = total ? Math.min(1, done / total) : 0;
  const filled = Math.round(share * width);
  const bar = total === null ? ' listing groups… ' : `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const groups = total === null ? '' : ` ${done}/${total} groups`;
  return terminalSafe(`${run.connector} ${run.mode} ${bar}${groups}, ${run.figures.memberships} memberships, ${run.figures.apiCalls} calls`);
}

/** The figures of a finished run, as aligned `name  value` lines. */
export function summaryLines(run: PrewarmRun): string[] {
  const seconds = run.finishedAt ? (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000 : null;
  const rows: Array<[string, string | number]> = [
    ['connector', run.connector],
    ['run', run.id],
    ['mode', run.mode],
    ['state', run.state],
    ['duration', seconds === null ? '-' : `${seconds.toFixed(1)} s`],
    ['api calls', run.figures.apiCalls],
    ['pages', run.figures.pages],
    ['retries', run.figures.retries],
    ['groups', run.figures.groups],
    ['users', run.figures.users],
    ['memberships', run.figures.memberships],
    ['marked absent', run.details.absentMarked],
    ['memberships removed', run.details.membershipsRemoved],
  ];
  if (run.error) rows.push(['error', run.error]);
  const pad = Math.max(...rows.map(([name]) => name.length));
  // The error text comes from the IdP or the network: never raw on a terminal.
  return rows.map(([name, value]) => `${name.padEnd(pad)}  ${terminalSafe(String(value))}`);
}
