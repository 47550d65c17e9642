import type { Store } from '../../store/types.js';
import type { ConnectorEntry } from '../config/schema.js';
import { scimAbsentDetail } from '../drift/wording.js';
import { isActive } from './resources.js';

/**
 * The reason behind a `scim` connector's `absent_from_idp` item, read from the pushed user (still
 * there and `active: false`, or gone) when a report page is rendered: the drift model's build
 * reads nothing more, and a page costs one look-up per absent user on it.
 */
export function scimAbsenceReason(
  connectors: readonly ConnectorEntry[],
  store: Store,
): (connector: string, subject: string) => Promise<string | null> {
  const attributes = new Map(
    connectors.flatMap((entry) => (entry.type === 'scim' ? [[entry.id, entry.subjectAttribute === 'userName' ? 'userName' : 'externalId'] as const] : [])),
  );
  return async (connector, subject) => {
    const attribute = attributes.get(connector);
    if (attribute === undefined) return null;
    const cached = await store.getCachedUser(connector, subject);
    if (!cached?.absentSince) return null;
    const [user] = await store.findScimResources(connector, 'User', attribute === 'userName' ? 'name' : 'externalId', subject);
    // An active user with this subject: the entry is about to be rewritten; the generic words hold.
    if (user && isActive(user.attributes)) return null;
    return scimAbsentDetail(user ? 'deactivated' : 'deleted', cached.absentSince, attribute);
  };
}
