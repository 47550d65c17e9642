import type { Logger } from 'pino';
import type { Organization, Store } from '../../store/types.js';
import { createLogLimit } from '../log-limit.js';
import { decisionChanges, pushedLogin } from '../login/push-login.js';
import { decideLogin } from '../reconcile/decide-login.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';

/**
 * Push provisioning's queue, on the background thread (docs/scim.md, Push provisioning): per
 * connector, the distinct subjects SCIM writes touched, drained one at a time. Each is decided
 * here, on this thread's read connection, with the login's own decision over its cache entry;
 * only one whose login would change its account is handed to the login thread (`apply`), which
 * applies it through the login's code path, and the next waits for that answer: a 1,000-member
 * PATCH costs the login thread one account write at a time, between logins.
 */

export interface PushProvisioningDeps {
  /** This thread's store: reads only. */
  store: Store;
  /** The `scim` connectors with `provisionOnPush: true`. */
  connectors: readonly string[];
  settingsFor(connectorId: string): ProvisioningSettings;
  /** Applies one subject on the login thread (`LoginService.provision`). */
  apply(connector: string, subject: string): Promise<unknown>;
  /**
   * Told of a connector's figures when they change (the gauges): subjects queued, and subjects
   * whose last try failed, waiting for the next.
   */
  onDepth(connector: string, depth: number, failing: number): void;
  logger: Logger;
}

/** The first wait before a failed subject is tried again; it doubles with each failure, up to the next. */
const RETRY_FIRST_MS = 1_000;
/** The longest wait between two tries of a failed subject. */
const RETRY_MAX_MS = 5 * 60_000;
/** At most one warning per connector this often, with a count of the failures left out since. */
const WARN_EVERY_MS = 60_000;

export interface PushProvisioning {
  /** Queues subjects (each once while it waits); drained once started. Other connectors' are ignored. */
  enqueue(connector: string, subjects: readonly string[]): void;
  /**
   * Sweeps, then drains: the queue is lost with the process, so every cached user of each
   * connector whose login would change its account is queued again from the cache and the accounts.
   */
  start(): Promise<void>;
  /** Stops after the subject being applied, if any. */
  close(): Promise<void>;
}

export function createPushProvisioning(deps: PushProvisioningDeps): PushProvisioning {
  const { store } = deps;
  const queues = new Map(deps.connectors.map((connector) => [connector, new Set<string>()]));
  let started = false;
  let closed = false;
  let draining: Promise<void> | null = null;
  let sweeping: Promise<void> | null = null;
  /** Per connector, its failed subjects: how often in a row, and the timer of the next try. */
  const failures = new Map(deps.connectors.map((connector) => [connector, new Map<string, { count: number; timer: NodeJS.Timeout }>()]));
  const allowWarning = createLogLimit(WARN_EVERY_MS);

  /** Whether the login of this cached subject would change its account now. */
  async function wouldChange(connector: string, subject: string, organizations?: readonly Organization[]): Promise<boolean> {
    const identity = { connector, subject };
    const entry = await store.getCachedUser(connector, subject);
    const byIdentity = entry ? await store.findAccountByIdentity(identity) : null;
    const pushed = pushedLogin(entry, byIdentity?.user.email ?? null);
    if (!pushed) return false;
    const [byEmail, orgs, invitations] = await Promise.all([
      byIdentity ? null : store.findAccountByEmail(pushed.email),
      organizations ?? store.listOrganizations(),
      store.pendingInvitations(pushed.email),
    ]);
    const decision = decideLogin({ byIdentity, byEmail, idpGroups: entry!.groups, organizations: orgs, invitations, settings: deps.settingsFor(connector) });
    return decisionChanges(decision);
  }

  // Connectors take turns, so that one IdP's big push does not hold up another's.
  let turn = 0;
  function next(): { connector: string; subject: string } | null {
    for (let i = 0; i < deps.connectors.length; i++) {
      const connector = deps.connectors[(turn + i) % deps.connectors.length]!;
      const queue = queues.get(connector)!;
      for (const subject of queue) {
        queue.delete(subject);
        report(connector);
        turn = (turn + i + 1) % deps.connectors.length;
        return { connector, subject };
      }
    }
    return null;
  }

  async function drain(): Promise<void> {
    while (!closed) {
      const item = next();
      if (item === null) return;
      const { connector, subject } = item;
      const failed = failures.get(connector)!;
      try {
        // Decided again here (the sweep's or an earlier push's answer may be old): a subject
        // whose login would change nothing costs the login thread nothing.
        if (await wouldChange(connector, subject)) await deps.apply(connector, subject);
        if (failed.has(subject)) {
          clearTimeout(failed.get(subject)!.timer);
          failed.delete(subject);
          report(connector);
        }
      } catch (error) {
        retryLater(connector, subject, error);
      }
    }
  }

  /**
   * A failure (a busy or unreachable store, a lost race) must not leave the account behind until
   * the subject's next push: it is tried again after a back-off, until it succeeds.
   */
  function retryLater(connector: string, subject: string, error: unknown): void {
    const failed = failures.get(connector)!;
    const count = (failed.get(subject)?.count ?? 0) + 1;
    clearTimeout(failed.get(subject)?.timer);
    const delayMs = Math.min(RETRY_FIRST_MS * 2 ** (count - 1), RETRY_MAX_MS);
    const timer = setTimeout(() => enqueue(connector, [subject]), delayMs);
    timer.unref();
    failed.set(subject, { count, timer });
    if (count === 1) report(connector);
    const failuresNotLogged = allowWarning(connector);
    if (failuresNotLogged === null) return;
    deps.logger.warn(
      { err: error, connector, subject, attempt: count, retryInMs: delayMs, failuresNotLogged },
      'push provisioning failed for a subject; it is tried again',
    );
  }

  function report(connector: string): void {
    deps.onDepth(connector, queues.get(connector)!.size, failures.get(connector)!.size);
  }

  function kick(): void {
    if (!started || closed || draining) return;
    draining = drain().finally(() => {
      draining = null;
      // Subjects queued while the last one was applied.
      if ([...queues.values()].some((queue) => queue.size > 0)) kick();
    });
  }

  function enqueue(connector: string, subjects: readonly string[]): void {
    const queue = queues.get(connector);
    if (!queue || closed) return;
    const before = queue.size;
    for (const subject of subjects) queue.add(subject);
    if (queue.size !== before) report(connector);
    kick();
  }

  /** Queues every cached user whose login would change its account (the queue died with the last process). */
  async function sweep(): Promise<void> {
    for (const connector of deps.connectors) {
      if (closed) return;
      try {
        const organizations = await store.listOrganizations();
        const due: string[] = [];
        for (const entry of await store.listCachedUsers(connector)) {
          if (closed) return;
          if (entry.absentSince === null && (await wouldChange(connector, entry.subject, organizations))) due.push(entry.subject);
        }
        enqueue(connector, due);
        if (due.length > 0) deps.logger.info({ connector, subjects: due.length }, 'push provisioning: queued the cached users whose accounts differ');
      } catch (error) {
        deps.logger.error({ err: error, connector }, 'push provisioning: the start sweep failed; pushes are still applied');
      }
    }
  }

  return {
    enqueue,
    start() {
      if (started) return sweeping ?? Promise.resolve();
      // Pushes queued meanwhile are drained while the sweep reads.
      started = true;
      kick();
      sweeping = sweep();
      return sweeping;
    },
    async close() {
      closed = true;
      for (const failed of failures.values()) for (const { timer } of failed.values()) clearTimeout(timer);
      await sweeping;
      await draining;
    },
  };
}
