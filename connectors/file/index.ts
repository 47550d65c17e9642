import type { ConnectorDefinition } from '../types.js';
import { fileConfigSchema, type FileConnectorConfig } from './config.js';
import { createFileConnector } from './connector.js';

export { createFileConnector } from './connector.js';
export { fileConfigSchema, type FileConnectorConfig } from './config.js';

/** The `file` connector: a JSON directory export, for demos, small deployments and tests. */
export const fileConnector: ConnectorDefinition<FileConnectorConfig> = {
  type: 'file',
  configSchema: fileConfigSchema,
  create: (config, deps) => createFileConnector(config, deps),
};
