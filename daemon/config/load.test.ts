import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileConnector } from '../../connectors/file/index.js';
import { connectorDefinitions } from '../../connectors/registry.js';
import { DEFAULT_SETTINGS } from '../reconcile/settings.js';
import { ConfigError, loadConfig, parseConfig } from './load.js';
import type { ConnectorSchemas } from '../../connectors/types.js';
import { settingsFor } from './schema.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const definitions: ConnectorSchemas = { file: fileConnector };

const HOOK = 'hook-token-0123456789';
const ADMIN = 'admin-token-0123456789';

const minimal = `
server:
  hookToken: ${HOOK}
  adminToken: ${ADMIN}
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jitsync-config-'));
  // The files the connector entries below name: a missing one is a finding of its own.
  for (const name of ['a.json', 'b.json', 'directory.json']) writeFileSync(join(dir, name), '{}');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function parse(text: string, env: Record<string, string> = {}) {
  return parseConfig(text, { baseDir: dir, env, definitions });
}

/** The error of a config that must fail. */
function rejection(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    parse(text, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

/** The problems of a config that must fail, as `path: message` lines. */
function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  return rejection(text, env).message.split('\n');
}

describe('a valid config', () => {
  it('reads every section of a full config', () => {
    const config = parse(`
server:
  listen: "[::1]:9000"
  hookToken: ${HOOK}
  adminToken: ${ADMIN}
  storeBusyTimeout: 500ms
store: mongodb://app:pw@db1:27017,db2:27017/jitsync?replicaSet=rs0
provisioning:
  signUp: blocked
  allowedGroups: [my-gitlab-group]
  matching: mapping
  mappings: [{ idpGroup: okta-admins, organization: OrgA, group: ENT_ORGA_ADMINS }]
  membership: managed
  protectedGroups: [{ organization: OrgB, group: sonar-users }]
  linkByEmail: false
  defaultOrganization: { organization: OrgB }
  staleAfter: 1h
  onIdpUnavailable: deny
  maxRemovalShare: 0.25
organizations:
  - { key: OrgA, groups: [ENT_ORGA_ADMINS] }
  - { key: OrgB, defaultGroup: Everyone, groups: [developers, sonar-users] }
connectors:
  - id: demo
    type: file
    path: ./directory.json
    prewarm: "*/10 * * * *"
    timeoutMs: 2000
log: { level: debug }
`);
    expect(config.server).toEqual({ listen: { host: '::1', port: 9000 }, hookToken: HOOK, adminToken: ADMIN, storeBusyTimeoutMs: 500, shutdownTimeoutMs: 8_000, scimListen: null, scimTls: null });
    expect(config.store).toEqual({ kind: 'mongodb', url: 'mongodb://app:pw@db1:27017,db2:27017/jitsync?replicaSet=rs0' });
    expect(config.provisioning).toEqual({
      signUp: 'blocked',
      allowedGroups: ['my-gitlab-group'],
      matching: 'mapping',
      mappings: [{ idpGroup: 'okta-admins', organization: 'OrgA', group: 'ENT_ORGA_ADMINS' }],
      membership: 'managed',
      protectedGroups: [{ organization: 'OrgB', group: 'sonar-users' }],
      linkByEmail: false,
      defaultOrganization: { organization: 'OrgB', group: null },
      staleAfterMs: 3_600_000,
      onIdpUnavailable: 'deny',
      maxRemovalShare: 0.25,
    });
    expect(config.organizations).toEqual([
      { key: 'OrgA', defaultGroup: 'Members', groups: ['ENT_ORGA_ADMINS'] },
      { key: 'OrgB', defaultGroup: 'Everyone', groups: ['developers', 'sonar-users'] },
    ]);
    expect(config.connectors).toEqual([
      {
        id: 'demo',
        type: 'file',
        path: './directory.json',
        prewarm: '*/10 * * * *',
        timeoutMs: 2000,
        maxRetries: 4,
        provisioning: {},
      },
    ]);
    expect(config.log).toEqual({ level: 'debug' });
    expect(config.baseDir).toBe(dir);
  });

  it('fills in the documented defaults', () => {
    const config = parse(minimal);
    expect(config.server.listen).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(config.store).toEqual({ kind: 'sqlite', path: join(dir, 'data', 'jitsync.db') });
    expect(config.provisioning).toEqual(DEFAULT_SETTINGS);
    expect(config.organizations).toEqual([]);
    expect(config.connectors).toEqual([]);
    expect(config.log).toEqual({ level: 'info' });
  });

  it('reads an empty section (all of it commented out) as its defaults', () => {
    const config = parse(`${minimal}store:\nprovisioning:\n  # membership: additive\norganizations:\nconnectors:\nlog:\n`);
    expect(config.provisioning).toEqual(DEFAULT_SETTINGS);
    expect(config.store).toEqual({ kind: 'sqlite', path: join(dir, 'data', 'jitsync.db') });
    expect(config.organizations).toEqual([]);
    expect(config.connectors).toEqual([]);
    expect(config.log).toEqual({ level: 'info' });
  });

  it('resolves a relative sqlite path against the config folder and keeps an absolute one', () => {
    expect(parse(`${minimal}store: sqlite:db/x.db\n`).store).toEqual({ kind: 'sqlite', path: join(dir, 'db', 'x.db') });
    expect(parse(`${minimal}store: sqlite:/var/lib/jitsync.db\n`).store).toEqual({
      kind: 'sqlite',
      path: '/var/lib/jitsync.db',
    });
  });

  it('accepts a mongodb+srv URL naming a database', () => {
    expect(parse(`${minimal}store: mongodb+srv://cluster.example.com/jitsync\n`).store).toEqual({
      kind: 'mongodb',
      url: 'mongodb+srv://cluster.example.com/jitsync',
    });
  });

  it('lets the fallback organization use its default group, and rules name unseeded organizations (a warning)', () => {
    const config = parse(`${minimal}
provisioning:
  defaultOrganization: { organization: OrgA, group: Members }
  mappings: [{ idpGroup: x, organization: Elsewhere, group: anything }]
organizations:
  - { key: OrgA }
`);
    expect(config.provisioning.defaultOrganization).toEqual({ organization: 'OrgA', group: 'Members' });
    expect(config.findings).toEqual({
      errors: [],
      warnings: [
        {
          path: 'provisioning.mappings[0].organization',
          message: 'no organization Elsewhere is declared under organizations (declared: OrgA); this names nothing until it is created through the API',
        },
      ],
    });
  });

  it('loads jitsync.example.yaml as is, with no environment variables set', () => {
    const config = loadConfig(join(repoRoot, 'jitsync.example.yaml'), { env: {}, definitions });
    expect(config.server).toEqual({
      listen: { host: '127.0.0.1', port: 8787 },
      hookToken: 'dev-hook-token-change-me',
      adminToken: 'dev-admin-token-change-me',
      storeBusyTimeoutMs: 2_000,
      shutdownTimeoutMs: 8_000,
      scimListen: null,
      scimTls: null,
    });
    expect(config.store).toEqual({ kind: 'sqlite', path: join(repoRoot, 'data', 'jitsync.db') });
    expect(config.provisioning).toEqual(DEFAULT_SETTINGS);
    expect(config.organizations).toEqual([
      { key: 'OrgA', defaultGroup: 'Members', groups: ['ENT_ORGA_ADMINS', 'developers'] },
      { key: 'OrgB', defaultGroup: 'Members', groups: ['developers', 'sonar-users'] },
    ]);
    expect(config.connectors.map((c) => [c.id, c.type, c.path, c.prewarm])).toEqual([
      ['demo', 'file', './examples/directory.json', '*/5 * * * *'],
    ]);
    expect(config.baseDir).toBe(repoRoot);
    expect(config.findings).toEqual({ errors: [], warnings: [] });
  });

  it('takes the tokens of the example from the environment when set', () => {
    const config = loadConfig(join(repoRoot, 'jitsync.example.yaml'), {
      env: { JITSYNC_HOOK_TOKEN: 'prod-hook-token-xxxxxxxx', JITSYNC_ADMIN_TOKEN: 'prod-admin-token-xxxxxxx' },
      definitions,
    });
    expect(config.server.hookToken).toBe('prod-hook-token-xxxxxxxx');
    expect(config.server.adminToken).toBe('prod-admin-token-xxxxxxx');
  });
});

describe('problems', () => {
  it('reports every problem at once, one line each, with dotted paths', () => {
    const lines = problemsOf(`
server:
  listen: localhost
  hookToken: short
  adminToken: ${ADMIN}
  port: 80
store: postgres://db/jitsync
provisioning:
  membership: rest
  staleAfter: 10 minutes
  maxRemovalShare: 2
  linkByEmail: "yes"
organizations:
  - { key: OrgA, groups: [Members, devs, devs] }
  - { key: OrgA }
log: { level: loud }
extra: 1
`);
    expect(lines).toEqual(
      expect.arrayContaining([
        'extra: unknown key (expected one of server, store, provisioning, organizations, connectors, log)',
        'server.listen: expected host:port, e.g. 127.0.0.1:8787 or [::1]:8787',
        'server.hookToken: must be at least 16 characters',
        'server.port: unknown key',
        'store: expected sqlite:PATH or a mongodb:// / mongodb+srv:// URL',
        'provisioning.membership: expected one of reset|managed|additive',
        'provisioning.staleAfter: expected a duration such as 30s, 15m, 1h or 2d',
        'provisioning.maxRemovalShare: must be at most 1',
        'provisioning.linkByEmail: expected boolean, got string',
        'organizations[0].groups[0]: is the default group (Members); list only the other groups',
        'organizations[0].groups[2]: duplicate group devs',
        'organizations[1].key: duplicate organization key OrgA',
        'log.level: expected one of fatal|error|warn|info|debug|trace|silent',
      ]),
    );
    expect(lines).toHaveLength(13);
  });

  it('requires both tokens, and different ones', () => {
    expect(problemsOf('server: {}\n')).toEqual(['server.hookToken: required', 'server.adminToken: required']);
    expect(problemsOf(`server: { hookToken: ${HOOK}, adminToken: ${HOOK} }\n`)).toEqual([
      'server.adminToken: must differ from server.hookToken',
    ]);
    expect(problemsOf('{}\n')).toEqual(['server: required']);
  });

  it('takes group names by the same rule as the API: no control characters, at most 256 characters', () => {
    const lines = problemsOf(`${minimal}organizations:\n  - { key: OrgA, groups: ["dev\\u0000", "${'g'.repeat(257)}"] }\n`);
    expect(lines).toEqual([
      'organizations[0].groups[0]: must not contain control characters, nor start or end with a space',
      'organizations[0].groups[1]: must be at most 256 characters',
    ]);
  });

  it('refuses tokens no client can present: spaces or non-ASCII characters', () => {
    expect(problemsOf(`server: { hookToken: "hook token 0123456789", adminToken: ${ADMIN} }\n`)).toEqual([
      'server.hookToken: must be visible ASCII characters only (no spaces or accents)',
    ]);
    expect(problemsOf(`server: { hookToken: ${HOOK}, adminToken: admin-tökén-0123456789 }\n`)).toEqual([
      'server.adminToken: must be visible ASCII characters only (no spaces or accents)',
    ]);
  });

  it('reads server.storeBusyTimeout as a duration', () => {
    expect(problemsOf(`server: { hookToken: ${HOOK}, adminToken: ${ADMIN}, storeBusyTimeout: soon }\n`)).toEqual([
      'server.storeBusyTimeout: expected a duration such as 30s, 15m, 1h or 2d',
    ]);
  });

  it('refuses a MongoDB URL the driver cannot read, showing no part of its credentials', () => {
    const lines = problemsOf(`${minimal}store: "mongodb://jsuser:Pa/ss#w0rd@127.0.0.1:1/jitsync"\n`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^store: the MongoDB URL cannot be read; percent-encode/);
    for (const part of ['jsuser', 'Pa/ss', 'w0rd']) expect(lines[0]).not.toContain(part);
    // A raw ? in the password once read as the start of the options: "must name a database".
    expect(problemsOf(`${minimal}store: "mongodb://jsuser:pa?ss@127.0.0.1:27017/jitsync"\n`)[0]).toMatch(/cannot be read; percent-encode/);
  });

  it('reads the database of a MongoDB URL whose encoded password holds ?', () => {
    const config = parse(`${minimal}store: "mongodb://jsuser:pa%3Fss@127.0.0.1:27017/jitsync?authSource=admin"\n`);
    expect(config.store).toEqual({ kind: 'mongodb', url: 'mongodb://jsuser:pa%3Fss@127.0.0.1:27017/jitsync?authSource=admin' });
  });

  it('rejects a MongoDB URL without a database, without echoing the URL', () => {
    const lines = problemsOf(`${minimal}store: mongodb://admin:s3cret-pw@db:27017/?authSource=admin\n`);
    expect(lines).toEqual(['store: the MongoDB URL must name a database, e.g. mongodb://127.0.0.1:27017/jitsync']);
    expect(lines.join('\n')).not.toContain('s3cret');
  });

  it('rejects rules that target the default group of a seeded organization, and names undeclared groups in warnings', () => {
    const text = `${minimal}
provisioning:
  mappings:
    - { idpGroup: a, organization: OrgA, group: Members }
    - { idpGroup: b, organization: OrgA, group: developerz }
    - { idpGroup: c, organization: OrgA, group: developers }
  protectedGroups: [{ organization: OrgA, group: Members }]
  defaultOrganization: { organization: OrgA, group: nobody }
organizations:
  - { key: OrgA, groups: [developers] }
`;
    const error = rejection(text);
    expect(error.message.split('\n')).toEqual([
      "provisioning.mappings[0].group: Members is OrgA's default group, which follows the other memberships and never comes from the IdP",
      "provisioning.protectedGroups[0].group: Members is OrgA's default group, which follows the other memberships and never comes from the IdP",
    ]);
    const undeclared = (group: string) =>
      `organization OrgA declares no group ${group} (default group Members; groups: developers); this names nothing until the group is created through the API`;
    expect(error.warnings).toEqual([
      { path: 'provisioning.mappings[1].group', message: undeclared('developerz') },
      { path: 'provisioning.defaultOrganization.group', message: undeclared('nobody') },
    ]);
  });

  it('still cross-checks the rules when another provisioning key is wrong', () => {
    const error = rejection(`${minimal}
provisioning:
  membership: sometimes
  mappings: [{ idpGroup: b, organization: OrgA, group: Members }, { idpGroup: b, organization: OrgA, group: nope }]
organizations: [{ key: OrgA }]
`);
    expect(error.message.split('\n')).toEqual([
      'provisioning.membership: expected one of reset|managed|additive',
      "provisioning.mappings[0].group: Members is OrgA's default group, which follows the other memberships and never comes from the IdP",
    ]);
    expect(error.warnings.map((w) => w.path)).toEqual(['provisioning.mappings[1].group']);
  });

  it('checks connector entries against their definition, and names the available types', () => {
    const lines = problemsOf(`${minimal}
connectors:
  - { id: demo, type: file, path: a.json, prewarm: "61 * * * *" }
  - { id: demo, type: okta, orgUrl: https://example.okta.com }
  - { id: two, type: file }
  - { type: file, path: b.json, pat: c.json }
  - { id: "bad id", path: b.json }
  - just a string
`);
    expect(lines).toEqual([
      'connectors[0].prewarm: not a valid node-cron expression (61 is a invalid expression for minute)',
      'connectors[1].type: unknown connector type "okta"; available types: file',
      'connectors[1].id: duplicate connector id demo (also connectors[0])',
      'connectors[2].path: required',
      'connectors[3].id: required',
      'connectors[3].pat: unknown key',
      'connectors[4].type: required; available types: file',
      'connectors[5]: expected a mapping',
    ]);
  });

  it('uses the message of the connector schema itself (the id pattern)', () => {
    expect(problemsOf(`${minimal}connectors: [{ id: "bad id", type: file, path: a.json }]\n`)).toEqual([
      'connectors[0].id: letters, digits, ".", "_" or "-", at most 64',
    ]);
  });

  it('rejects a connector list that is not a list', () => {
    expect(problemsOf(`${minimal}connectors: { id: demo }\n`)).toEqual(['connectors: expected a list']);
  });

  it('reports a YAML syntax error with its position and no excerpt of the file', () => {
    const lines = problemsOf(`server:\n  hookToken: top-secret-value-123\n  hookToken: top-secret-value-456\n`);
    expect(lines).toEqual(['YAML syntax error at line 3, column 3: Map keys must be unique']);
  });

  it('hints at quoting when ${...} breaks a flow mapping', () => {
    const [line] = problemsOf(`${minimal}connectors:\n  - { id: okta, type: okta, token: \${env:OKTA_TOKEN} }\n`);
    expect(line).toMatch(/^YAML syntax error at line 6, column \d+: .*quote a value that holds \$\{…\}/);
  });

  it('rejects a document that is not a mapping', () => {
    expect(problemsOf('- a\n- b\n')).toEqual(['expected a mapping of keys at the top level']);
  });

  it('names the missing config file', () => {
    const missing = join(dir, 'nope.yaml');
    expect(() => loadConfig(missing, { env: {}, definitions })).toThrow(`config file not found: ${missing}`);
  });

  it('says which file was invalid', () => {
    const file = join(dir, 'jitsync.yaml');
    writeFileSync(file, 'server: {}\n');
    try {
      loadConfig(file, { env: {}, definitions });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ file, problems: [{ path: 'server.hookToken', message: 'required' }, { path: 'server.adminToken' }] });
    }
  });
});

describe('interpolation', () => {
  const withTokens = (hook: string, admin: string) => `server:\n  hookToken: ${hook}\n  adminToken: ${admin}\n`;

  it('fills ${env:NAME} and ${env:NAME:-default}', () => {
    const config = parse(withTokens('${env:HOOK}', 'admin-${env:SUFFIX:-fallback-value}'), { HOOK });
    expect(config.server.hookToken).toBe(HOOK);
    expect(config.server.adminToken).toBe('admin-fallback-value');
    // The default also stands in for an empty variable, as in the shell.
    expect(parse(withTokens('${env:HOOK}', '${env:ADMIN:-fallback-admin-token}'), { HOOK, ADMIN: '' }).server.adminToken).toBe(
      'fallback-admin-token',
    );
  });

  it('fills ${file:PATH} relative to the config folder, trimming the trailing newline', () => {
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'admin'), `${ADMIN}\n`);
    const config = parse(withTokens(HOOK, '${file:secrets/admin}'));
    expect(config.server.adminToken).toBe(ADMIN);
  });

  it('names the key and the variable or file when one is missing, and nothing else', () => {
    const lines = problemsOf(withTokens('${env:JITSYNC_HOOK}', '${file:secrets/missing}'));
    expect(lines).toEqual([
      'server.hookToken: environment variable JITSYNC_HOOK is not set',
      `server.adminToken: cannot read file ${join(dir, 'secrets', 'missing')} (ENOENT)`,
    ]);
  });

  it('works inside lists and connector entries', () => {
    const config = parse(`${minimal}
provisioning:
  allowedGroups: ["\${env:ROOT}", static]
connectors:
  - { id: demo, type: file, path: "\${env:DIR}/directory.json" }
`, { ROOT: 'my-gitlab-group', DIR: '/srv/export' });
    expect(config.provisioning.allowedGroups).toEqual(['my-gitlab-group', 'static']);
    expect(config.connectors[0]?.path).toBe('/srv/export/directory.json');
  });

  it('keeps a secret holding YAML syntax as one string', () => {
    const secret = 'x:[1,2]#membership:additive,}{"\'';
    const config = parse(withTokens(HOOK, '${env:ADMIN}'), { ADMIN: secret });
    expect(config.server.adminToken).toBe(secret);
    expect(config.provisioning.membership).toBe('reset');
  });

  it('never puts an interpolated secret into a problem', () => {
    const lines = problemsOf(withTokens('${env:HOOK}', '${env:ADMIN}'), { HOOK: 'tiny-secret', ADMIN: 'tiny-secret-2' });
    expect(lines).toEqual(['server.hookToken: must be at least 16 characters', 'server.adminToken: must be at least 16 characters']);
    expect(lines.join('\n')).not.toContain('tiny-secret');
  });

  it('writes a literal ${ for $${ and rejects an unknown or unclosed placeholder', () => {
    expect(parse(withTokens(HOOK, 'pa$${ss}word-0123456789')).server.adminToken).toBe('pa${ss}word-0123456789');
    expect(problemsOf(withTokens(HOOK, '${vault:secret/admin}'))).toEqual([
      'server.adminToken: unknown placeholder: use ${env:NAME}, ${env:NAME:-default} or ${file:PATH} (or $${ for a literal "${")',
    ]);
    expect(problemsOf(withTokens(HOOK, 'abc${env:ADMIN'))).toEqual([
      'server.adminToken: unclosed "${": write ${env:NAME} or ${file:PATH}, or $${ for a literal',
    ]);
  });
});

describe('per-connector provisioning', () => {
  const text = `${minimal}
provisioning:
  membership: reset
  staleAfter: 15m
  allowedGroups: [root]
organizations: [{ key: OrgA, groups: [developers] }]
connectors:
  - id: demo
    type: file
    path: a.json
    provisioning:
      membership: additive
      staleAfter: 30s
      allowedGroups: []
      defaultOrganization: { organization: OrgA, group: developers }
  - { id: plain, type: file, path: b.json }
`;

  it('merges a connector\'s overrides over the global block', () => {
    const config = parse(text);
    expect(config.connectors[0]?.provisioning).toEqual({
      membership: 'additive',
      staleAfterMs: 30_000,
      allowedGroups: [],
      defaultOrganization: { organization: 'OrgA', group: 'developers' },
    });
    expect(settingsFor(config, 'demo')).toEqual({
      ...DEFAULT_SETTINGS,
      membership: 'additive',
      staleAfterMs: 30_000,
      allowedGroups: [],
      defaultOrganization: { organization: 'OrgA', group: 'developers' },
    });
    expect(settingsFor(config, 'plain')).toEqual({ ...DEFAULT_SETTINGS, allowedGroups: ['root'] });
    expect(() => settingsFor(config, 'nope')).toThrow('unknown connector: nope');
  });

  it('validates overrides like the global block, cross-checks included', () => {
    expect(
      problemsOf(`${minimal}
organizations: [{ key: OrgA, groups: [developers] }]
connectors:
  - id: demo
    type: file
    path: a.json
    provisioning:
      membership: sometimes
      stale: 1h
      mappings: [{ idpGroup: x, organization: OrgA, group: Members }]
`),
    ).toEqual([
      'connectors[0].provisioning.membership: expected one of reset|managed|additive',
      'connectors[0].provisioning.stale: unknown key',
      "connectors[0].provisioning.mappings[0].group: Members is OrgA's default group, which follows the other memberships and never comes from the IdP",
    ]);
  });
});

describe('references the config cannot vouch for', () => {
  const undeclaredOrg = (org: string, declared = 'OrgA') =>
    `no organization ${org} is declared under organizations (declared: ${declared}); this names nothing until it is created through the API`;

  it('warns, naming the key, about every organization a rule names that is not declared, and still loads', () => {
    const config = parse(`${minimal}
provisioning:
  matching: mapping
  mappings: [{ idpGroup: a, organization: OrgA, group: developers }, { idpGroup: b, organization: OrgZ, group: devs }]
  protectedGroups: [{ organization: Ghosts, group: keep }]
  defaultOrganization: { organization: Lobby }
organizations: [{ key: OrgA, groups: [developers] }]
connectors:
  - id: demo
    type: file
    path: a.json
    provisioning:
      defaultOrganization: { organization: Elsewhere, group: Members }
`);
    expect(config.findings.errors).toEqual([]);
    expect(config.findings.warnings).toEqual([
      { path: 'provisioning.mappings[1].organization', message: undeclaredOrg('OrgZ') },
      { path: 'provisioning.protectedGroups[0].organization', message: undeclaredOrg('Ghosts') },
      { path: 'provisioning.defaultOrganization.organization', message: undeclaredOrg('Lobby') },
      { path: 'connectors[0].provisioning.defaultOrganization.organization', message: undeclaredOrg('Elsewhere') },
    ]);
  });

  it("finds a file connector's missing export and an unreadable LDAP CA file, without refusing the config", () => {
    mkdirSync(join(dir, 'exports'));
    const config = parseConfig(
      `${minimal}
connectors:
  - { id: present, type: file, path: ./a.json }
  - { id: missing, type: file, path: ./exports/missing.json }
  - { id: folder, type: file, path: ${join(dir, 'exports')} }
  - id: corp
    type: ldap
    url: ldaps://ldap.example.com
    bindDN: cn=jitsync,dc=example,dc=com
    bindPassword: secret
    userBase: ou=people,dc=example,dc=com
    groupBase: ou=groups,dc=example,dc=com
    tls: { caFile: ca.pem }
`,
      { baseDir: dir, env: {}, definitions: connectorDefinitions },
    );
    expect(config.connectors.map((c) => c.id)).toEqual(['present', 'missing', 'folder', 'corp']);
    const relative = " (relative paths resolve against the config file's folder)";
    expect(config.findings).toEqual({
      errors: [
        { path: 'connectors[1].path', message: `file not found: ${join(dir, 'exports', 'missing.json')}${relative}` },
        { path: 'connectors[2].path', message: `${join(dir, 'exports')} is not a file` },
        { path: 'connectors[3].tls.caFile', message: `file not found: ${join(dir, 'ca.pem')}${relative}` },
      ],
      warnings: [],
    });
  });

  it('reports schema problems, missing files and warnings together when the config is refused', () => {
    const error = rejection(`${minimal}
provisioning:
  membership: sometimes
  defaultOrganization: { organization: Lobby }
connectors:
  - { id: demo, type: file, path: gone.json, timeoutMs: -1 }
`);
    expect(error.message.split('\n')).toEqual([
      'provisioning.membership: expected one of reset|managed|additive',
      'connectors[0].timeoutMs: must be more than 0',
      `connectors[0].path: file not found: ${join(dir, 'gone.json')} (relative paths resolve against the config file's folder)`,
    ]);
    expect(error.warnings).toEqual([{ path: 'provisioning.defaultOrganization.organization', message: undeclaredOrg('Lobby', 'none') }]);
  });
});
