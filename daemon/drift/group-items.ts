import { membershipKey, type Organization } from '../../store/types.js';
import { matchGroups } from '../reconcile/match.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { createNearMissIndex, type NearMiss, type NearMissIndex } from './near-miss.js';
import type { OrganizationIndex } from './relevant-organizations.js';
import type { DriftItem } from './types.js';
import { orphanDetail, unmatchedDetail } from './wording.js';

/** What the group-level items need of their connector. */
export interface GroupItemsContext {
  connector: string;
  settings: ProvisioningSettings;
  orgIndex: OrganizationIndex;
  /** The cached group list's names. */
  groupNames: readonly string[];
  /** Group names present cache entries hold, with how many hold each. */
  holders: ReadonlyMap<string, number>;
}

/** `unmatched_idp_group` and `orphan_app_group` of one connector, with the closest near miss. */
export function groupItems(cx: GroupItemsContext): DriftItem[] {
  const { connector, settings, orgIndex } = cx;
  const items: DriftItem[] = [];
  const idpNames = new Set([...cx.groupNames, ...cx.holders.keys()]);
  const blank = (kind: DriftItem['kind'], detail: string): DriftItem => ({
    kind,
    connector,
    user: null,
    organization: null,
    group: null,
    idpGroup: null,
    source: null,
    detail,
  });

  const fed = new Set<string>();
  const unmatched: string[] = [];
  for (const name of idpNames) {
    const refs = matchGroups([name], orgIndex.forUser({ idpGroups: [name], current: [], invitations: [] }), settings);
    if (refs.length === 0) unmatched.push(name);
    for (const ref of refs) fed.add(membershipKey(ref));
  }

  const expected = expectedIdpNames(orgIndex.all, settings);
  const appSide = createNearMissIndex(expected.keys());
  for (const idpGroup of unmatched) {
    const miss = appSide.find(idpGroup);
    const target = miss ? expected.get(miss.name)?.[0] : undefined;
    items.push({
      ...blank('unmatched_idp_group', unmatchedDetail(miss)),
      idpGroup,
      organization: target?.organization ?? null,
      group: target?.group ?? null,
    });
  }

  const idpSide: NearMissIndex = createNearMissIndex(idpNames);
  for (const org of orgIndex.all) {
    for (const group of org.groups) {
      if (group === org.defaultGroup || fed.has(membershipKey({ organization: org.key, group }))) continue;
      const feeding = expectedNamesFor(org.key, group, settings);
      const miss = feeding.map((name) => idpSide.find(name)).find((m): m is NearMiss => m !== null) ?? null;
      items.push({
        ...blank('orphan_app_group', orphanDetail(feeding, miss)),
        organization: org.key,
        group,
        idpGroup: miss?.name ?? null,
      });
    }
  }
  return items;
}

/** The IdP group names that would feed each app group, in the connector's matching mode. */
function expectedIdpNames(
  organizations: readonly Organization[],
  settings: ProvisioningSettings,
): Map<string, Array<{ organization: string; group: string }>> {
  const expected = new Map<string, Array<{ organization: string; group: string }>>();
  for (const org of organizations) {
    for (const group of org.groups) {
      if (group === org.defaultGroup) continue;
      for (const name of expectedNamesFor(org.key, group, settings)) {
        const list = expected.get(name);
        if (list) list.push({ organization: org.key, group });
        else expected.set(name, [{ organization: org.key, group }]);
      }
    }
  }
  return expected;
}

function expectedNamesFor(organization: string, group: string, settings: ProvisioningSettings): string[] {
  if (settings.matching === 'exact') return [group];
  return [
    ...settings.mappings.filter((r) => r.organization === organization && r.group === group).map((r) => r.idpGroup),
    `${organization}:${group}`,
  ];
}
