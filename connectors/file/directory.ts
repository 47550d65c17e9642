import { z } from 'zod';
import type { IdpGroup, IdpUser } from '../types.js';

/**
 * The JSON directory export the file connector reads:
 * `{ "groups": [{ "id", "name" }], "users": [{ "subject", "email", "name", "groups": [names] }] }`.
 * Objects are strict: a misspelt `group` key must not read as "no groups" (a reset login would
 * then strip every membership).
 */
const optionalText = z.string().min(1).nullable().optional().transform((value) => value ?? null);

const directorySchema = z
  .object({
    groups: z.array(z.object({ id: z.string().min(1), name: z.string().min(1) }).strict()),
    users: z.array(
      z
        .object({
          subject: z.string().min(1),
          email: optionalText,
          name: optionalText,
          groups: z.array(z.string().min(1)).default([]),
        })
        .strict(),
    ),
  })
  .strict();

export interface DirectoryUser extends IdpUser {
  /** Group names, as listed (duplicates dropped). */
  groups: string[];
}

/** A validated directory, indexed for the connector's three questions. */
export interface Directory {
  groups: IdpGroup[];
  usersBySubject: ReadonlyMap<string, DirectoryUser>;
  /** Members by group id. */
  membersByGroupId: ReadonlyMap<string, IdpUser[]>;
}

/** Validates a parsed JSON document; returns the directory or every problem, naming the entry. */
export function parseDirectory(document: unknown): { directory: Directory } | { problems: string[] } {
  const result = directorySchema.safeParse(document);
  if (!result.success) {
    return { problems: result.error.issues.map((issue) => `${describePath(issue.path, document)}: ${issue.message}`) };
  }
  const { groups, users } = result.data;
  const problems: string[] = [];

  const groupIdByName = new Map<string, string>();
  const seenIds = new Set<string>();
  groups.forEach((group, index) => {
    if (seenIds.has(group.id)) problems.push(`groups[${index}]: duplicate group id ${JSON.stringify(group.id)}`);
    if (groupIdByName.has(group.name)) problems.push(`groups[${index}]: duplicate group name ${JSON.stringify(group.name)}`);
    seenIds.add(group.id);
    groupIdByName.set(group.name, group.id);
  });

  const usersBySubject = new Map<string, DirectoryUser>();
  const membersByGroupId = new Map<string, IdpUser[]>(groups.map((group) => [group.id, []]));
  users.forEach((user, index) => {
    const entry = `users[${index}] (${user.subject})`;
    if (usersBySubject.has(user.subject)) problems.push(`${entry}: duplicate subject`);
    const names = [...new Set(user.groups)];
    const idpUser: IdpUser = { subject: user.subject, email: user.email, name: user.name };
    for (const name of names) {
      const groupId = groupIdByName.get(name);
      if (groupId === undefined) problems.push(`${entry}: unknown group ${JSON.stringify(name)}`);
      else membersByGroupId.get(groupId)?.push(idpUser);
    }
    usersBySubject.set(user.subject, { ...idpUser, groups: names });
  });

  if (problems.length > 0) return { problems };
  return { directory: { groups, usersBySubject, membersByGroupId } };
}

/** `users[2] (00u3alan).email`: the index plus the subject or group name when there is one. */
function describePath(path: readonly PropertyKey[], document: unknown): string {
  let out = '';
  let node: unknown = document;
  for (const segment of path) {
    node = isRecord(node) || Array.isArray(node) ? Reflect.get(node, segment) : undefined;
    if (typeof segment === 'number') {
      out += `[${segment}]`;
      const label = isRecord(node) ? (node.subject ?? node.name) : undefined;
      if (typeof label === 'string') out += ` (${label})`;
    } else {
      out += out === '' ? String(segment) : `.${String(segment)}`;
    }
  }
  return out === '' ? 'directory' : out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
