import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Each measured part runs in its own Node process (the daemon, a fake IdP, a pre-warm run), so
 * CPU and memory figures are that part's alone. They talk over the fork IPC channel: the parent
 * sends `{ id, command, ...args }`, the child answers `{ id, ok, value | error }`.
 */

const here = dirname(fileURLToPath(import.meta.url));

export interface Worker {
  child: ChildProcess;
  call<T>(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Waits for the process to exit (after a `stop` command or by itself). */
  exited: Promise<number | null>;
  /** Sends `stop` and waits for the exit; the process is killed if either fails. */
  stop(): Promise<void>;
  kill(): void;
}

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

function isReply(message: unknown): message is Reply {
  return typeof message === 'object' && message !== null && 'id' in message && 'ok' in message;
}

export function startWorker(
  script: string,
  options: { env?: NodeJS.ProcessEnv; execArgv?: string[]; args?: string[] } = {},
): Worker {
  const child = fork(join(here, script), options.args ?? [], {
    env: { ...process.env, ...options.env },
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  child.on('message', (message: unknown) => {
    if (!isReply(message)) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.value);
    else waiter.reject(new Error(`${script}: ${message.error ?? 'failed'}`));
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      for (const waiter of pending.values()) waiter.reject(new Error(`${script} exited (code ${code}) before answering`));
      pending.clear();
      resolve(code);
    });
  });
  return {
    child,
    exited,
    call<T>(command: string, args: Record<string, unknown> = {}, timeoutMs = 10 * 60_000): Promise<T> {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${script}: ${command} took longer than ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value as T);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ id, command, ...args });
      });
    },
    async stop() {
      try {
        await this.call('stop');
        await exited;
      } finally {
        this.kill();
      }
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

type Handler = (args: Record<string, unknown>) => Promise<unknown>;

/** The child's side: answers commands with `handlers`; `stop` runs `onStop` and exits. */
export function serveCommands(handlers: Record<string, Handler>): void {
  process.on('message', (message: unknown) => {
    if (typeof message !== 'object' || message === null) return;
    const { id, command, ...args } = message as { id: number; command: string } & Record<string, unknown>;
    const handler = handlers[command];
    const reply = (body: Omit<Reply, 'id'>) => process.send?.({ id, ...body });
    if (!handler) {
      reply({ ok: false, error: `unknown command ${command}` });
      return;
    }
    handler(args).then(
      (value) => {
        reply({ ok: true, value });
        if (command === 'stop') process.disconnect();
      },
      (error: unknown) => reply({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  // The parent died: nothing left to answer.
  process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
}

/** Peak RSS of this process so far, in MiB (`ru_maxrss` is in KiB on Linux). */
export function peakRssMiB(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

export function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return Math.round((usage.user + usage.system) / 1e4) / 100;
}
