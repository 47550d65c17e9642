import { ConnectorError, type Connector, type ConnectorDefinition } from '../types.js';
import { scimConfigSchema, type ScimConnectorConfig } from './config.js';

export { scimConfigSchema, type ScimConnectorConfig } from './config.js';

/**
 * The `scim` connector: the IdP pushes users and groups (daemon/scim writes them into the
 * directory cache), so the connector itself calls nothing. It is `pushed`: logins read the cache
 * alone, whatever its age, and a subject never pushed has no groups.
 */
export function createScimConnector(config: ScimConnectorConfig): Connector {
  const noPull = () => {
    throw new ConnectorError('invalid_config', config.id, 'a scim connector is fed by the IdP’s pushes; it has nothing to pre-warm');
  };
  return {
    id: config.id,
    type: 'scim',
    pushed: true,
    async *listGroups() {
      noPull();
    },
    async *listMembers() {
      noPull();
    },
    // Not called for a pushed connector (resolve-groups reads the cache); answers "not known".
    lookupUser: async () => null,
  };
}

export const scimConnector: ConnectorDefinition<ScimConnectorConfig> = {
  type: 'scim',
  configSchema: scimConfigSchema,
  create: (config) => createScimConnector(config),
};
