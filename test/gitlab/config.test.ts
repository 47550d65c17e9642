import { describe, expect, it } from 'vitest';
import { gitlabConnector } from '../../connectors/gitlab/index.js';

const parse = (entry: Record<string, unknown>) =>
  gitlabConnector.configSchema.safeParse({ id: 'gitlab', type: 'gitlab', token: 't', ...entry });

const problems = (entry: Record<string, unknown>) => {
  const result = parse(entry);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('GitLab connector config', () => {
  it('defaults to gitlab.com, 100 rows a page and every group', () => {
    const result = parse({});
    expect(result.success && result.data).toMatchObject({
      url: 'https://gitlab.com',
      pageSize: 100,
      timeoutMs: 10_000,
      maxRetries: 4,
    });
    expect(result.success && result.data.rootGroups).toBeUndefined();
  });

  it('takes a self-managed base URL, trailing slash dropped', () => {
    const result = parse({ url: 'https://git.example.com/gitlab/', rootGroups: ['my-gitlab-group'] });
    expect(result.success && result.data.url).toBe('https://git.example.com/gitlab');
  });

  it('names every bad key at once', () => {
    const found = problems({ url: 'ftp://x', token: '', pageSize: 500, rootGroups: ['top/sub'], colour: 'blue' });
    expect(found.some((p) => p.startsWith('url:'))).toBe(true);
    expect(found.some((p) => p.startsWith('token:'))).toBe(true);
    expect(found.some((p) => p.startsWith('pageSize:'))).toBe(true);
    expect(found.some((p) => p.startsWith('rootGroups.0:') && p.includes('top-level'))).toBe(true);
    expect(found.some((p) => p.includes('colour'))).toBe(true);
  });

  it('refuses an API URL in place of the instance URL, and a root group named twice', () => {
    expect(problems({ url: 'https://gitlab.example.com/api/v4' })).toEqual([
      'url: the instance base URL, without /api/v4',
    ]);
    expect(problems({ rootGroups: ['Top', 'top'] })).toEqual(['rootGroups: names a group twice']);
  });
});
