import { randomUUID } from 'node:crypto';
import {
  AlreadyExistsError,
  membershipKey,
  NotFoundError,
  type Account,
  type Invitation,
  type Membership,
  type Organization,
  type Store,
  type SyncState,
} from '../../store/types.js';
import { conflict, notFound } from '../errors.js';
import type { OrganizationsCache } from '../organizations-cache.js';
import { pendingChanges } from '../reconcile/decide-login.js';
import { organizationsOf, withDerivedDefaults } from '../reconcile/plan.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';

/** A sync state as the API shows it: with what the next login will change, derived when read. */
export interface SyncStateView extends SyncState {
  pendingAdd: Membership[];
  pendingRemove: Membership[];
}

export interface UserView {
  id: string;
  username: string;
  email: string;
  name: string | null;
  disabled: boolean;
  /** With `scimId`: the SCIM user a `scim` connector holds for that identity. */
  identities: Array<Account['user']['identities'][number] & { scimId?: string }>;
  memberships: Membership[];
  organizations: string[];
  syncState: SyncStateView[];
  createdAt: string;
  updatedAt: string;
}

export interface AdminService {
  getUser(id: string): Promise<UserView>;
  findUserByEmail(email: string): Promise<UserView | null>;
  /** A disabled user is refused at login (`user_disabled`); memberships are kept. */
  setDisabled(id: string, disabled: boolean): Promise<UserView>;
  listOrganizations(): Promise<Organization[]>;
  createOrganization(input: { key: string; defaultGroup?: string | undefined }): Promise<Organization>;
  addGroup(organization: string, name: string): Promise<Organization>;
  addMembership(organization: string, group: string, userId: string): Promise<UserView>;
  removeMembership(organization: string, group: string, userId: string): Promise<UserView>;
  createInvitation(input: { organization: string; email: string; group?: string | undefined }): Promise<Invitation>;
}

export interface AdminServiceDeps {
  store: Store;
  /** Told when an organization or group is created, so logins see it at once. */
  organizations: OrganizationsCache;
  /** Ids of the configured connectors, whose sync state a user view shows. */
  connectorIds: readonly string[];
  /** Each connector's provisioning settings: the pending changes are the login's decision under them. */
  settingsFor(connectorId: string): ProvisioningSettings;
  /** The SCIM id behind an identity of a `scim` connector, or null (daemon/scim). */
  scimIdOf?(identity: Account['user']['identities'][number]): Promise<string | null>;
  clock?: () => Date;
}

export function createAdminService(deps: AdminServiceDeps): AdminService {
  const { store } = deps;
  const clock = deps.clock ?? (() => new Date());

  async function view(account: Account): Promise<UserView> {
    const states = await Promise.all(deps.connectorIds.map((id) => store.getSyncState(account.user.id, id)));
    const syncState = await withPendingChanges(account, states.filter((state): state is SyncState => state !== null));
    const { user, memberships } = account;
    const identities = await Promise.all(
      user.identities.map(async (identity) => {
        const scimId = (await deps.scimIdOf?.(identity)) ?? null;
        return scimId === null ? identity : { ...identity, scimId };
      }),
    );
    return { ...user, identities, memberships, organizations: organizationsOf(memberships), syncState };
  }

  /**
   * Each state's `pendingAdd`/`pendingRemove`, derived now by the login's decision over the cached
   * groups, the account as it is, the organizations and the pending invitations: never a copy
   * that a later write has made stale.
   */
  async function withPendingChanges(account: Account, states: SyncState[]): Promise<SyncStateView[]> {
    if (states.length === 0) return [];
    const [organizations, entries] = await Promise.all([
      deps.organizations.get(),
      Promise.all(states.map((state) => store.getCachedUser(state.connector, state.subject))),
    ]);
    // The login's email is the IdP's (the cache entry's); the account's when the cache has none.
    const emails = entries.map((entry) => (entry?.email ?? account.user.email).toLowerCase());
    const invitations = new Map(
      await Promise.all([...new Set(emails)].map(async (email) => [email, await store.pendingInvitations(email)] as const)),
    );
    return states.map((state, i) => {
      const entry = entries[i];
      const pending = pendingChanges({
        account,
        identity: { connector: state.connector, subject: state.subject },
        idpGroups: entry && !entry.absentSince ? entry.groups : null,
        organizations,
        invitations: invitations.get(emails[i]!) ?? [],
        settings: deps.settingsFor(state.connector),
      });
      return { ...state, pendingAdd: pending.added, pendingRemove: pending.removed };
    });
  }

  async function requireGroup(organization: string, group: string): Promise<Organization> {
    const org = await store.getOrganization(organization);
    if (!org) throw notFound('organization', organization);
    if (group === org.defaultGroup) {
      // 409, not 400: the request is well formed; the organization's state (which group is its
      // default) refuses it.
      throw conflict(
        'default_group_derived',
        `"${group}" is the default group of ${organization}: membership in it follows the user's other memberships`,
      );
    }
    if (!org.groups.includes(group)) throw notFound('group', `${organization}/${group}`);
    return org;
  }

  /** Changes one membership by hand, keeping the derived default group right. */
  async function changeMembership(
    organization: string,
    group: string,
    userId: string,
    action: 'add' | 'remove',
  ): Promise<UserView> {
    await requireGroup(organization, group);
    const organizations = await store.listOrganizations();
    const now = clock().toISOString();
    const key = membershipKey({ organization, group });
    try {
      const { account, changed } = await store.updateAccount(
        userId,
        (current) => {
          const held = current.memberships.some((m) => membershipKey(m) === key);
          if (action === 'add' ? held : !held) return { change: null, result: held };
          const rest = current.memberships.filter((m) => membershipKey(m) !== key);
          const next =
            action === 'add' ? [...current.memberships, { organization, group, source: 'manual' as const }] : rest;
          return { change: { memberships: withDerivedDefaults(next, organizations) }, result: held };
        },
        now,
      );
      if (!changed && action === 'remove') throw notFound('membership', `${organization}/${group} of ${userId}`);
      if (changed) {
        await store.appendAudit({
          at: now,
          actor: 'admin',
          action: action === 'add' ? 'membership.added' : 'membership.removed',
          userId,
          details: { organization, group },
        });
      }
      return await view(account);
    } catch (error) {
      if (error instanceof NotFoundError) throw notFound('user', userId);
      throw error;
    }
  }

  return {
    async getUser(id) {
      const account = await store.getAccount(id);
      if (!account) throw notFound('user', id);
      return view(account);
    },

    async findUserByEmail(email) {
      const account = await store.findAccountByEmail(email.toLowerCase());
      return account ? view(account) : null;
    },

    async setDisabled(id, disabled) {
      const now = clock().toISOString();
      try {
        const { account, changed } = await store.updateAccount(
          id,
          (current) => ({ change: current.user.disabled === disabled ? null : { disabled }, result: null }),
          now,
        );
        if (changed) {
          await store.appendAudit({ at: now, actor: 'admin', action: disabled ? 'user.disabled' : 'user.enabled', userId: id, details: {} });
        }
        return await view(account);
      } catch (error) {
        if (error instanceof NotFoundError) throw notFound('user', id);
        throw error;
      }
    },

    listOrganizations: () => store.listOrganizations(),

    async createOrganization(input) {
      try {
        const created = await store.createOrganization({
          key: input.key,
          defaultGroup: input.defaultGroup ?? 'Members',
          groups: [],
        });
        deps.organizations.invalidate();
        return created;
      } catch (error) {
        if (error instanceof AlreadyExistsError) throw conflict('already_exists', `organization ${input.key} exists`);
        throw error;
      }
    },

    async addGroup(organization, name) {
      const org = await store.getOrganization(organization);
      if (!org) throw notFound('organization', organization);
      if (name === org.defaultGroup || org.groups.includes(name)) {
        throw conflict('already_exists', `group ${organization}/${name} exists`);
      }
      try {
        const updated = await store.addGroup(organization, name);
        deps.organizations.invalidate();
        return updated;
      } catch (error) {
        if (error instanceof AlreadyExistsError) throw conflict('already_exists', `group ${organization}/${name} exists`);
        throw error;
      }
    },

    addMembership: (organization, group, userId) => changeMembership(organization, group, userId, 'add'),
    removeMembership: (organization, group, userId) => changeMembership(organization, group, userId, 'remove'),

    async createInvitation(input) {
      const org = await store.getOrganization(input.organization);
      if (!org) throw notFound('organization', input.organization);
      if (input.group !== undefined && input.group !== org.defaultGroup && !org.groups.includes(input.group)) {
        throw notFound('group', `${input.organization}/${input.group}`);
      }
      const now = clock().toISOString();
      const invitation = await store.createInvitation({
        id: randomUUID(),
        organization: input.organization,
        email: input.email.toLowerCase(),
        group: input.group ?? null,
        state: 'pending',
        createdAt: now,
        acceptedAt: null,
        acceptedBy: null,
      });
      await store.appendAudit({
        at: now,
        actor: 'admin',
        action: 'invitation.created',
        userId: null,
        details: { id: invitation.id, organization: invitation.organization, group: invitation.group },
      });
      return invitation;
    },
  };
}
