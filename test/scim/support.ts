import { startDaemon, type Answer, type TestDaemon } from '../support/daemon.js';

export const ENTRA_TOKEN = 'scim-entra-token-0123456789';
export const OKTA_TOKEN = 'scim-okta-token-0123456789';

export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export interface ScimDaemon extends TestDaemon {
  /** A SCIM request to `/scim/v2/{connector}{path}` with that connector's token unless `token` says otherwise. */
  scim(connector: 'entra' | 'okta', method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
}

/**
 * A daemon (SQLite, real HTTP) with two `scim` connectors: `entra` (subject = externalId,
 * deprovisioning disables) and `okta` (subject = externalId, deprovisioning also removes sync
 * memberships), beside the `demo` file connector the test daemon always has. With `ownListener`,
 * SCIM is served on `server.scimListen`, by the SCIM thread.
 */
export async function startScimDaemon(options: { provisioning?: string; store?: string; ownListener?: boolean } = {}): Promise<ScimDaemon> {
  const { ownListener = false, ...rest } = options;
  const daemon = await startDaemon({
    ...rest,
    ...(ownListener ? { server: '  scimListen: 127.0.0.1:0' } : {}),
    extra: [
      `  - { id: entra, type: scim, token: ${ENTRA_TOKEN} }`,
      `  - { id: okta, type: scim, token: ${OKTA_TOKEN}, onDeprovision: remove-memberships }`,
    ].join('\n'),
  });
  return {
    ...daemon,
    async scim(connector, method, path, body, headers = {}) {
      const token = connector === 'entra' ? ENTRA_TOKEN : OKTA_TOKEN;
      const response = await fetch(`${scimBase(daemon)}/scim/v2/${connector}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
    },
  };
}

/** Where a daemon serves SCIM: its own listener if it has one, else the main one. */
export const scimBase = (d: TestDaemon): string => d.daemon.scimAddress ?? d.url;
