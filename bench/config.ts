import { connectorDefinitions } from '../connectors/registry.js';
import { parseConfig } from '../daemon/config/load.js';
import type { JitsyncConfig } from '../daemon/config/schema.js';
import { groupName } from './shape.js';

/**
 * The benchmark's jitsync configuration, as YAML (the daemon is started exactly as `jitsync
 * serve` would start it). Organizations: every even-numbered IdP group is an app group, spread
 * over 10 organizations, so a login matches about half of a user's groups.
 */

export const HOOK_TOKEN = 'bench-hook-token-0123456789abcdef';
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
export const ORGANIZATIONS = 10;

export function appGroupsOf(org: number, groups: number): string[] {
  const names: string[] = [];
  for (let g = 0; g < groups; g += 2) if ((g / 2) % ORGANIZATIONS === org) names.push(groupName(g));
  return names;
}

/** The organization an IdP group maps to, or null when it matches no app group. */
export function organizationOf(group: number): number | null {
  return group % 2 === 0 ? (group / 2) % ORGANIZATIONS : null;
}

export function benchConfigYaml(options: { store: string; groups: number; connectors: string; logLevel?: string; server?: string }): string {
  const orgs: string[] = [];
  for (let o = 0; o < ORGANIZATIONS; o++) {
    orgs.push(`  - { key: Org${o}, defaultGroup: Members, groups: [${appGroupsOf(o, options.groups).join(', ')}] }`);
  }
  return `
server:
  listen: 127.0.0.1:0
  hookToken: ${HOOK_TOKEN}
  adminToken: ${ADMIN_TOKEN}
${options.server ?? ''}store: ${options.store}
log: { level: ${options.logLevel ?? 'warn'} }
provisioning:
  membership: reset
  # Long enough that no login of the run falls back to a live look-up.
  staleAfter: 24h
  maxRemovalShare: 0.5
organizations:
${orgs.join('\n')}
connectors:
${options.connectors}
`;
}

export function parseBenchConfig(yaml: string, baseDir: string): JitsyncConfig {
  return parseConfig(yaml, { baseDir, env: {}, definitions: connectorDefinitions });
}
