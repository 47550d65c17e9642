import { tmpdir } from 'node:os';
import { gitlabConnector, type GitlabConnectorConfig } from '../../connectors/gitlab/index.js';
import type { CallOptions, CallStats, Connector } from '../../connectors/types.js';
import { createGitlabFake, type GitlabFake } from '../fakes/gitlab/gitlab-fake.js';
import type { LoggedRequest } from '../fakes/fake-server.js';

export const ADMIN_TOKEN = 'glpat-admin-token';
export const USER_TOKEN = 'glpat-plain-user-token';

/** A started fake GitLab with an administrator and a plain user, each with a token. */
export async function startGitlab(): Promise<GitlabFake> {
  const fake = createGitlabFake();
  const admin = fake.directory.addUser({ username: 'root', name: 'Administrator', admin: true, id: 1 });
  const plain = fake.directory.addUser({ username: 'plain', name: 'Plain User', id: 2 });
  fake.directory.addToken(ADMIN_TOKEN, admin.id);
  fake.directory.addToken(USER_TOKEN, plain.id);
  await fake.start();
  return fake;
}

/** The connector as the daemon builds it: config through the real schema, then `create`. */
export function connect(fake: GitlabFake, entry: Record<string, unknown> = {}): Connector {
  const config: GitlabConnectorConfig = gitlabConnector.configSchema.parse({
    id: 'gitlab-test',
    type: 'gitlab',
    url: fake.server.baseUrl,
    token: ADMIN_TOKEN,
    ...entry,
  });
  return gitlabConnector.create(config, { baseDir: tmpdir() });
}

export function callOptions(signal: AbortSignal = new AbortController().signal): CallOptions & { stats: CallStats } {
  return { signal, stats: { apiCalls: 0, pages: 0, retries: 0 } };
}

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}

/** `path?query` of each logged request, for asserting exactly which calls were made. */
export function calls(fake: GitlabFake): string[] {
  return fake.server.requests.map(describe);
}

export function describe(request: LoggedRequest): string {
  const query = request.query.toString();
  return query ? `${request.path}?${query}` : request.path;
}
