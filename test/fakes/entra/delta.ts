import { randomUUID } from 'node:crypto';
import type { FakeResponse, LoggedRequest } from '../fake-server.js';
import type { Directory, DirectoryGroup } from './directory.js';
import { allowQuery, decodeToken, encodeToken, GraphFault, parseSelect, serializeGroup } from './odata.js';

/**
 * `GET /v1.0/groups/delta`, as Graph documents it: a round is a first request (or a deltaLink)
 * followed by `@odata.nextLink` pages and ends with an `@odata.deltaLink`. The first round lists
 * every group with all its direct members in `members@delta`; later rounds list only groups
 * changed since the token: `{ id, <changed properties>, members@delta: [added, and removed
 * with @removed] }`, created groups in full, and removed groups as `{ id, @removed: { reason } }`.
 * A group with many members is split into several objects with the same id, possibly across
 * pages. Tokens from before `expireTokens()` get `410 Gone`.
 */

export interface DeltaOptions {
  /** Objects per page. */
  pageSize: number;
  /** `members@delta` entries per object before the group is split into another object. */
  membersPerObject: number;
}

interface Round {
  items: Record<string, unknown>[];
  /** The change sequence the round reflects; its deltaLink starts after it. */
  until: number;
  epoch: number;
  select: string[];
}

interface Cursor {
  since: number;
  epoch: number;
  select: string[];
}

export class GroupDelta {
  private readonly rounds = new Map<string, Round>();
  private readonly cursors = new Map<string, Cursor>();
  private epoch = 0;

  constructor(
    private readonly directory: Directory,
    private readonly options: DeltaOptions,
  ) {}

  /** Every delta and skip token issued so far now answers `410 Gone`. */
  expireTokens(): void {
    this.epoch += 1;
  }

  handle(request: LoggedRequest, baseUrl: string): FakeResponse {
    const skip = request.query.get('$skiptoken');
    const delta = request.query.get('$deltatoken');
    if (skip !== null || delta !== null) allowQuery(request, skip !== null ? ['$skiptoken'] : ['$deltatoken']);
    else allowQuery(request, ['$select']);

    let roundId: string;
    let offset = 0;
    if (skip !== null) {
      const [id = '', rawOffset = ''] = skip.split('.');
      const round = this.rounds.get(id);
      offset = decodeToken(rawOffset, 'o');
      if (!round || !Number.isInteger(offset)) throw new GraphFault(400, 'Directory_InvalidSkipToken', 'Invalid skip token.');
      this.requireLive(round.epoch);
      roundId = id;
    } else {
      const cursor = delta !== null ? this.cursors.get(delta) : undefined;
      if (delta !== null && !cursor) throw new GraphFault(400, 'Directory_InvalidDeltaToken', 'Invalid delta token.');
      if (cursor) this.requireLive(cursor.epoch);
      const select = cursor?.select ?? parseSelect(request, 'group', ['members']) ?? ['displayName', 'description'];
      roundId = randomUUID();
      this.rounds.set(roundId, {
        items: this.split(cursor ? this.changedSince(cursor.since, select) : this.everything(select)),
        until: this.directory.lastSeq,
        epoch: this.epoch,
        select,
      });
    }

    const round = this.rounds.get(roundId)!;
    const end = offset + this.options.pageSize;
    const body: Record<string, unknown> = {
      '@odata.context': `${baseUrl}/v1.0/$metadata#groups(${round.select.join(',')})`,
      value: round.items.slice(offset, end),
    };
    if (end < round.items.length) {
      body['@odata.nextLink'] = `${baseUrl}/v1.0/groups/delta?$skiptoken=${roundId}.${encodeToken({ o: end })}`;
    } else {
      const token = randomUUID().replaceAll('-', '');
      this.cursors.set(token, { since: round.until, epoch: round.epoch, select: round.select });
      this.rounds.delete(roundId);
      body['@odata.deltaLink'] = `${baseUrl}/v1.0/groups/delta?$deltatoken=${token}`;
    }
    return { status: 200, body };
  }

  private requireLive(epoch: number): void {
    if (epoch < this.epoch) {
      throw new GraphFault(410, 'resyncRequired', 'The delta token has expired; a full synchronization is required.');
    }
  }

  private everything(select: string[]): Record<string, unknown>[] {
    return this.directory.listGroups().map((group) => this.full(group, select));
  }

  private full(group: DirectoryGroup, select: string[]): Record<string, unknown> {
    const item: Record<string, unknown> = { id: group.id, ...serializeGroup(group, select) };
    if (select.includes('members')) {
      item['members@delta'] = group.members.map((id) => ({ '@odata.type': this.typeOf(id), id }));
    }
    return item;
  }

  private changedSince(since: number, select: string[]): Record<string, unknown>[] {
    const touched = new Map<
      string,
      { created: boolean; renamed: boolean; deleted?: boolean; members: Map<string, { added: boolean; type: string }> }
    >();
    for (const change of this.directory.changes) {
      if (change.seq <= since) continue;
      let entry = touched.get(change.groupId);
      if (!entry) {
        entry = { created: false, renamed: false, members: new Map() };
        touched.set(change.groupId, entry);
      }
      if (change.kind === 'created') entry.created = true;
      else if (change.kind === 'renamed') entry.renamed = true;
      else if (change.kind === 'deleted') entry.deleted = change.permanently;
      else {
        entry.members.set(change.memberId, {
          added: change.kind === 'member-added',
          type: `#microsoft.graph.${change.memberKind}`,
        });
      }
    }

    const items: Record<string, unknown>[] = [];
    for (const [id, entry] of touched) {
      const group = this.directory.findGroup(id);
      if (!group) {
        if (!entry.created) items.push({ id, '@removed': { reason: entry.deleted ? 'deleted' : 'changed' } });
        continue;
      }
      if (entry.created) {
        items.push(this.full(group, select));
        continue;
      }
      const item: Record<string, unknown> = { id };
      if (entry.renamed && select.includes('displayName')) item.displayName = group.displayName;
      if (entry.members.size > 0 && select.includes('members')) {
        item['members@delta'] = [...entry.members].map(([memberId, m]) =>
          m.added ? { '@odata.type': m.type, id: memberId } : { '@odata.type': m.type, id: memberId, '@removed': { reason: 'deleted' } },
        );
      }
      if (Object.keys(item).length > 1) items.push(item);
    }
    return items;
  }

  /** Splits objects whose `members@delta` is longer than `membersPerObject`. */
  private split(items: Record<string, unknown>[]): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    const limit = this.options.membersPerObject;
    for (const item of items) {
      const members = item['members@delta'];
      if (!Array.isArray(members) || members.length <= limit) {
        out.push(item);
        continue;
      }
      for (let i = 0; i < members.length; i += limit) {
        const chunk = members.slice(i, i + limit);
        out.push(i === 0 ? { ...item, 'members@delta': chunk } : { id: item.id, 'members@delta': chunk });
      }
    }
    return out;
  }

  private typeOf(id: string): string {
    return this.directory.findGroup(id) ? '#microsoft.graph.group' : '#microsoft.graph.user';
  }
}
