import { z } from 'zod';
import { connectorBaseSchema } from '../base-config.js';

/** A `connectors:` entry of type `file`: a JSON directory export on disk. */
export const fileConfigSchema = connectorBaseSchema
  .extend({
    type: z.literal('file'),
    /** The JSON export; relative paths resolve against the config file's folder. */
    path: z.string().min(1, 'must name the directory JSON file'),
  })
  .strict();

export type FileConnectorConfig = z.infer<typeof fileConfigSchema>;

/** Largest page `listGroups` and `listMembers` yield. */
export const PAGE_SIZE = 500;
