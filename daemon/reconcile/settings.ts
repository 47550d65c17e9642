/** Provisioning settings: the `provisioning` config block, optionally overridden per connector. */

export type MatchingMode = 'exact' | 'mapping';
export type MembershipMode = 'reset' | 'managed' | 'additive';

export interface GroupRef {
  organization: string;
  group: string;
}

export interface MappingRule extends GroupRef {
  idpGroup: string;
}

export interface ProvisioningSettings {
  signUp: 'allowed' | 'blocked';
  /** Root groups: members of them or of their subgroups (`root/...`) may sign in. Empty = all. */
  allowedGroups: string[];
  matching: MatchingMode;
  mappings: MappingRule[];
  membership: MembershipMode;
  protectedGroups: GroupRef[];
  linkByEmail: boolean;
  /** `group` null means the organization's default group. */
  defaultOrganization: { organization: string; group: string | null } | null;
  staleAfterMs: number;
  onIdpUnavailable: 'use-cache' | 'deny';
  maxRemovalShare: number;
}

export const DEFAULT_SETTINGS: ProvisioningSettings = {
  signUp: 'allowed',
  allowedGroups: [],
  matching: 'exact',
  mappings: [],
  membership: 'reset',
  protectedGroups: [],
  linkByEmail: true,
  defaultOrganization: null,
  staleAfterMs: 15 * 60_000,
  onIdpUnavailable: 'use-cache',
  maxRemovalShare: 0.1,
};
