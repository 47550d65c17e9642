import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answers, type LoginAllowed, type UserView } from './api.js';
import { startDaemon, type TestDaemon } from './daemon.js';

/** The tests' HTTP client: typed bodies, checked against the API's own schemas when asked. */

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon();
});
afterAll(async () => d?.stop());

describe('test client', () => {
  it('signIn returns the allowed login, as sent', async () => {
    const ada: LoginAllowed = await d.signIn({ subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace' });
    expect(ada.user.email).toBe('ada@example.com');
    expect(ada.organizations).toEqual(['OrgA', 'OrgB']);

    const user: UserView = await d.callExpecting(200, answers.user, 'GET', `/v1/users/${ada.user.id}`);
    expect(user.identities).toEqual([{ connector: 'demo', subject: '00u1ada' }]);
  });

  it('callExpecting fails with the status and body that came instead of the expected ones', async () => {
    await expect(d.callExpecting(200, answers.user, 'GET', '/v1/users/no-such-user')).rejects.toThrow(
      /GET \/v1\/users\/no-such-user: expected 200, got 404 \{"error":\{"code":"not_found"/,
    );
    // The right status with the wrong shape fails too.
    await expect(d.callExpecting(200, answers.user, 'GET', '/v1/organizations')).rejects.toThrow(/expected 200, got 200/);
  });

  it('signIn fails on a refused login, naming the refusal', async () => {
    await expect(d.signIn({ subject: 'x', email: 'not-an-email' })).rejects.toThrow(/expected 200, got 400/);
  });
});
