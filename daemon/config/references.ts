import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Organization } from '../../store/types.js';
import { isPlainObject } from './interpolate.js';
import { joinPath, type Problem } from './problems.js';
import { provisioningRulesSchema, type ProvisioningRules } from './schema.js';

/**
 * Checks of what the config names against what exists, beyond each key's own shape:
 *
 * - provisioning rules against the declared `organizations:`. A rule naming an organization or
 *   group the config does not declare is a warning: the admin API can create it later, and until
 *   then the rule matches nothing. A rule naming an organization's default group is a problem: that
 *   group follows the other memberships and never comes from the IdP.
 * - files a connector reads (a `file` connector's export, an LDAP CA file) against the disk.
 */

export interface RuleFindings {
  problems: Problem[];
  warnings: Problem[];
}

/** Cross-checks one provisioning block (global, or a connector's overrides) under `base`. */
export function checkRules(block: unknown, organizations: readonly Organization[], base: string): RuleFindings {
  const findings: RuleFindings = { problems: [], warnings: [] };
  const parsed = provisioningRulesSchema.safeParse(block ?? {});
  // Shape problems are reported by the block's own schema; there is nothing to cross-check.
  if (!parsed.success) return findings;
  const rules: ProvisioningRules = parsed.data;
  const byKey = new Map(organizations.map((org) => [org.key, org]));
  const declared = organizations.map((org) => org.key).join(', ') || 'none';

  /** `group: null` is the fallback's "the organization's default group", which always exists. */
  const check = (ref: { organization: string; group: string | null }, path: string, syncedGroup: boolean) => {
    const org = byKey.get(ref.organization);
    if (!org) {
      findings.warnings.push({
        path: joinPath(path, 'organization'),
        message: `no organization ${ref.organization} is declared under organizations (declared: ${declared}); this names nothing until it is created through the API`,
      });
      return;
    }
    if (ref.group === null) return;
    if (ref.group === org.defaultGroup) {
      if (!syncedGroup) return;
      findings.problems.push({
        path: joinPath(path, 'group'),
        message: `${ref.group} is ${org.key}'s default group, which follows the other memberships and never comes from the IdP`,
      });
    } else if (!org.groups.includes(ref.group)) {
      findings.warnings.push({
        path: joinPath(path, 'group'),
        message: `organization ${org.key} declares no group ${ref.group} (${describeGroups(org)}); this names nothing until the group is created through the API`,
      });
    }
  };

  rules.mappings?.forEach((rule, index) => check(rule, joinPath(base, 'mappings', index), true));
  rules.protectedGroups?.forEach((ref, index) => check(ref, joinPath(base, 'protectedGroups', index), true));
  // The fallback may name the default group: it is how a user joins an organization with no other group.
  if (rules.defaultOrganization) check(rules.defaultOrganization, joinPath(base, 'defaultOrganization'), false);
  return findings;
}

function describeGroups(org: Organization): string {
  return `default group ${org.defaultGroup}; groups: ${org.groups.length > 0 ? org.groups.join(', ') : 'none'}`;
}

/**
 * The SCIM listener's TLS files that cannot be read now. A problem, not a finding: without them
 * the listener cannot start, so neither can the daemon.
 */
export function checkServerFiles(scimTls: { certFile: string; keyFile: string } | null, baseDir: string): Problem[] {
  if (!scimTls) return [];
  return (['certFile', 'keyFile'] as const).flatMap((key) => {
    const why = unreadable(resolve(baseDir, scimTls[key]));
    if (why === null) return [];
    const hint = isAbsolute(scimTls[key]) ? '' : " (relative paths resolve against the config file's folder)";
    return [{ path: joinPath('server', 'scimTls', key), message: `${why}${hint}` }];
  });
}

/** The keys of each connector type that name a file on this machine. */
const LOCAL_FILE_KEYS: Record<string, readonly (readonly string[])[]> = {
  file: [['path']],
  ldap: [['tls', 'caFile']],
};

/**
 * The files a connector entry reads that cannot be read now, one problem per key. Relative paths
 * resolve against the config file's folder, as the connectors resolve them.
 */
export function checkLocalFiles(entry: Record<string, unknown>, base: string, baseDir: string): Problem[] {
  const keys = typeof entry.type === 'string' ? LOCAL_FILE_KEYS[entry.type] : undefined;
  const problems: Problem[] = [];
  for (const key of keys ?? []) {
    const value = valueAt(entry, key);
    // An absent or mistyped value is the schema's to report.
    if (typeof value !== 'string' || value === '') continue;
    const why = unreadable(resolve(baseDir, value));
    if (why === null) continue;
    const hint = isAbsolute(value) ? '' : " (relative paths resolve against the config file's folder)";
    problems.push({ path: joinPath(base, ...key), message: `${why}${hint}` });
  }
  return problems;
}

function valueAt(entry: Record<string, unknown>, key: readonly string[]): unknown {
  let value: unknown = entry;
  for (const segment of key) value = isPlainObject(value) ? value[segment] : undefined;
  return value;
}

/** Why the file cannot be read, or null when it can. */
function unreadable(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return `${path} is not a file`;
    accessSync(path, constants.R_OK);
    return null;
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    return code === 'ENOENT' ? `file not found: ${path}` : `cannot read ${path} (${code})`;
  }
}
