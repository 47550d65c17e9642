import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { connectorDefinitions } from '../../connectors/registry.js';
import { parseConfig } from '../../daemon/config/load.js';
import { createLogger } from '../../daemon/logger.js';
import { createDaemon, type Daemon } from '../../daemon/main.js';
import { answers, type LoginAllowed } from './api.js';

export const HOOK_TOKEN = 'test-hook-token-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** The directory the `demo` file connector serves in these tests. */
export const DIRECTORY = {
  groups: [
    { id: 'g1', name: 'ENT_ORGA_ADMINS' },
    { id: 'g2', name: 'developers' },
    { id: 'g3', name: 'sonar-users' },
    { id: 'g4', name: 'Team' },
    { id: 'g5', name: 'my-gitlab-group' },
    { id: 'g6', name: 'my-gitlab-group/sub-group' },
  ],
  users: [
    { subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace', groups: ['ENT_ORGA_ADMINS', 'developers'] },
    { subject: '00u2grace', email: 'grace@example.com', name: 'Grace Hopper', groups: ['developers'] },
    { subject: '00u3alan', email: 'alan@example.com', name: 'Alan Turing', groups: ['Team'] },
    { subject: '00u6sub', email: 'sub@example.com', name: 'Sub Member', groups: ['my-gitlab-group/sub-group'] },
  ],
};

/**
 * One HTTP answer. `T` is its body's type when the test states it (`call<UserView>(…)`, or
 * `callExpecting`, which also checks it); unstated, the body is the parsed JSON, unchecked.
 */
export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  dir: string;
  /** POSTs/GETs with the right token for the route unless `token` says otherwise. */
  call<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<Answer<T>>;
  /**
   * A call that must answer `status` with a body of `schema`'s shape (one of `answers` in
   * `./api.ts`: the API's own schemas); returns that body, as sent. Anything else fails the test,
   * naming the status and body that came instead.
   */
  callExpecting<S extends z.ZodType>(status: number, schema: S, method: string, path: string, body?: unknown): Promise<z.output<S>>;
  /** `POST /v1/logins` through the `demo` connector unless `body` names another. */
  login<T = any>(body: Record<string, unknown>): Promise<Answer<T>>;
  /** A login that must be allowed: its answer, checked against the API's schema. */
  signIn(body: Record<string, unknown>): Promise<LoginAllowed>;
  stop(): Promise<void>;
  /** Stops the daemon and starts a new one on the same config and folder (the state stays). */
  restart(): Promise<TestDaemon>;
}

/**
 * Starts the real daemon (config parsed from YAML, SQLite in a temp folder, real HTTP on a free
 * loopback port). `yaml` is appended to a base config; `provisioning` replaces the default block.
 */
export async function startDaemon(
  options: {
    provisioning?: string;
    extra?: string;
    directory?: unknown;
    demoPrewarm?: string;
    store?: string;
    dir?: string;
    /** More `server:` keys, as YAML lines indented by two spaces. */
    server?: string;
    /** Where the daemon logs (default: nowhere), for tests that read its log lines. */
    logger?: Logger;
  } = {},
): Promise<TestDaemon> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'jitsync-test-'));
  if (!options.dir) writeFileSync(join(dir, 'directory.json'), JSON.stringify(options.directory ?? DIRECTORY));
  const text = `
server:
  listen: 127.0.0.1:0
  hookToken: ${HOOK_TOKEN}
  adminToken: ${ADMIN_TOKEN}
${options.server ?? ''}
store: ${options.store ?? 'sqlite:./jitsync.db'}
log: { level: silent }
provisioning:
${options.provisioning ?? '  membership: reset'}
organizations:
  - { key: OrgA, defaultGroup: Members, groups: [ENT_ORGA_ADMINS, developers, Team] }
  - { key: OrgB, defaultGroup: Members, groups: [developers, sonar-users] }
  - { key: Sonar, defaultGroup: sonar-users, groups: [my-gitlab-group, my-gitlab-group/sub-group] }
connectors:
  - { id: demo, type: file, path: ./directory.json${options.demoPrewarm ? `, prewarm: "${options.demoPrewarm}"` : ''} }
${options.extra ?? ''}
`;
  const config = parseConfig(text, { baseDir: dir, env: {}, definitions: connectorDefinitions });
  const daemon = await createDaemon(config, options.logger ?? createLogger('silent'), { prewarmJitterMs: 0 });
  const address = await daemon.listen();

  const call = async <T,>(method: string, path: string, body?: unknown, token?: string | null): Promise<Answer<T>> => {
    const bearer = token === undefined ? (path.startsWith('/v1/logins') ? HOOK_TOKEN : ADMIN_TOKEN) : token;
    const response = await fetch(`${address}${path}`, {
      method,
      headers: {
        ...(bearer !== null ? { authorization: `Bearer ${bearer}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T, headers: response.headers };
  };

  const callExpecting: TestDaemon['callExpecting'] = async (status, schema, method, path, body) => {
    const answer = await call<unknown>(method, path, body);
    const checked = schema.safeParse(answer.body);
    if (answer.status !== status || !checked.success) {
      const why = checked.success ? '' : `\n${z.prettifyError(checked.error)}`;
      throw new Error(`${method} ${path}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}${why}`);
    }
    // The body as sent, not the schema's copy: a test sees every field the daemon wrote.
    return answer.body as z.output<typeof schema>;
  };

  return {
    daemon,
    url: address,
    dir,
    call,
    callExpecting,
    login: <T,>(body: Record<string, unknown>) => call<T>('POST', '/v1/logins', { connector: 'demo', ...body }),
    signIn: (body) => callExpecting(200, answers.loginAllowed, 'POST', '/v1/logins', { connector: 'demo', ...body }),
    async stop() {
      await daemon.close();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await daemon.close();
      return startDaemon({ ...options, dir });
    },
  };
}
