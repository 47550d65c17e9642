import type { ConnectorDefinitions, ConnectorEntry } from '../daemon/config/schema.js';
import { fileConnector } from './file/index.js';
import { gitlabConnector } from './gitlab/index.js';
import { ldapConnector } from './ldap/index.js';
import type { Connector, ConnectorDeps } from './types.js';

/** Every connector type jitsync knows, by the `type` key of a `connectors:` entry. */
export const connectorDefinitions: ConnectorDefinitions = {
  file: fileConnector,
  gitlab: gitlabConnector,
  ldap: ldapConnector,
};

/** Builds the connector for an entry the config loader validated with its definition's schema. */
export function createConnector(entry: ConnectorEntry, deps: ConnectorDeps): Connector {
  const definition = connectorDefinitions[entry.type];
  if (!definition) throw new Error(`connector type "${entry.type}" is not available`);
  return definition.create(entry, deps);
}
