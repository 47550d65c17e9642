import type { AnyConnectorDefinition, ConnectorEntry } from '../daemon/config/schema.js';
import { entraConnector } from './entra/index.js';
import { fileConnector } from './file/index.js';
import { gitlabConnector } from './gitlab/index.js';
import { ldapConnector } from './ldap/index.js';
import { oktaConnector } from './okta/index.js';
import type { Connector, ConnectorDeps, ConnectorType } from './types.js';

/** Every connector type jitsync knows, by the `type` key of a `connectors:` entry. Exhaustive. */
export const connectorDefinitions: Readonly<Record<ConnectorType, AnyConnectorDefinition>> = {
  entra: entraConnector,
  file: fileConnector,
  gitlab: gitlabConnector,
  ldap: ldapConnector,
  okta: oktaConnector,
};

/** Builds the connector for an entry the config loader validated with its definition's schema. */
export function createConnector(entry: ConnectorEntry, deps: ConnectorDeps): Connector {
  return connectorDefinitions[entry.type].create(entry, deps);
}
