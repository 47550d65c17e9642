import { entraConfigSchema } from './entra/config.js';
import { fileConfigSchema } from './file/config.js';
import { gitlabConfigSchema } from './gitlab/config.js';
import { ldapConfigSchema } from './ldap/config.js';
import { oktaConfigSchema } from './okta/config.js';
import { scimConfigSchema } from './scim/config.js';
import type { AnyConnectorSchema, Connector, ConnectorDefinition, ConnectorDeps, ConnectorEntryBase, ConnectorType } from './types.js';

/**
 * Every connector type jitsync knows, by the `type` key of a `connectors:` entry. Exhaustive.
 * Only the config schemas are loaded here: a type's implementation, and with it the vendor's SDK
 * (over a second for Okta's), is imported when a configured connector needs it.
 */
export const connectorDefinitions: Readonly<Record<ConnectorType, AnyConnectorSchema>> = {
  entra: { type: 'entra', configSchema: entraConfigSchema },
  file: { type: 'file', configSchema: fileConfigSchema },
  gitlab: { type: 'gitlab', configSchema: gitlabConfigSchema },
  ldap: { type: 'ldap', configSchema: ldapConfigSchema },
  okta: { type: 'okta', configSchema: oktaConfigSchema },
  scim: { type: 'scim', configSchema: scimConfigSchema },
};

const implementations: Record<ConnectorType, () => Promise<ConnectorDefinition<ConnectorEntryBase>>> = {
  entra: async () => (await import('./entra/index.js')).entraConnector,
  file: async () => (await import('./file/index.js')).fileConnector,
  gitlab: async () => (await import('./gitlab/index.js')).gitlabConnector,
  ldap: async () => (await import('./ldap/index.js')).ldapConnector,
  okta: async () => (await import('./okta/index.js')).oktaConnector,
  scim: async () => (await import('./scim/index.js')).scimConnector,
};

/** Builds the connector for an entry the config loader validated with its type's schema. */
export async function createConnector(entry: ConnectorEntryBase, deps: ConnectorDeps): Promise<Connector> {
  return (await implementations[entry.type]()).create(entry, deps);
}
