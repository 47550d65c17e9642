import { describe, expect, it } from 'vitest';
import { ENTERPRISE_USER } from './filter.js';
import { applyPatch, PATCH_OP_SCHEMA, readPatchRequest } from './patch.js';

const patch = (attributes: Record<string, unknown>, ...operations: unknown[]) =>
  applyPatch(attributes, readPatchRequest({ schemas: [PATCH_OP_SCHEMA], Operations: operations }));

const user = {
  userName: 'ada@example.com',
  active: true,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
};

describe('the PATCH engine', () => {
  it('replace and add by path, sub-attributes of a complex attribute kept', () => {
    expect(patch(user, { op: 'replace', path: 'name.givenName', value: 'Augusta' }).name).toEqual({ givenName: 'Augusta', familyName: 'Lovelace' });
    expect(patch(user, { op: 'replace', path: 'name', value: { formatted: 'A. L.' } }).name).toEqual({
      givenName: 'Ada',
      familyName: 'Lovelace',
      formatted: 'A. L.',
    });
    expect(patch(user, { op: 'add', path: 'title', value: 'Countess' }).title).toBe('Countess');
  });

  it("accepts Entra's capitalised op and Okta's no-path replace", () => {
    expect(patch(user, { op: 'Replace', path: 'active', value: false }).active).toBe(false);
    expect(patch(user, { op: 'replace', value: { active: false, displayName: 'Ada' } })).toMatchObject({ active: false, displayName: 'Ada' });
  });

  it('a no-path value with dotted keys and extension URNs', () => {
    const result = patch(user, { op: 'Add', value: { 'name.givenName': 'Augusta', [`${ENTERPRISE_USER}:department`]: 'Research' } });
    expect(result.name).toEqual({ givenName: 'Augusta', familyName: 'Lovelace' });
    expect(result[ENTERPRISE_USER]).toEqual({ department: 'Research' });
  });

  it('value paths: replace an existing value, and create the one named when none matches (Entra)', () => {
    const replaced = patch(user, { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ada@new.example' });
    expect(replaced.emails).toEqual([{ value: 'ada@new.example', type: 'work', primary: true }]);
    const added = patch(user, { op: 'Add', path: 'emails[type eq "home"].value', value: 'ada@home.example' });
    expect(added.emails).toEqual([user.emails[0], { type: 'home', value: 'ada@home.example' }]);
  });

  it('members: add appends without duplicates, remove by filter, and remove by value array (Entra)', () => {
    const group = { displayName: 'devs', members: [{ value: 'u1' }, { value: 'u2' }] };
    expect(patch(group, { op: 'add', path: 'members', value: [{ value: 'u2' }, { value: 'u3' }] }).members).toEqual([
      { value: 'u1' },
      { value: 'u2' },
      { value: 'u3' },
    ]);
    expect(patch(group, { op: 'remove', path: 'members[value eq "u1"]' }).members).toEqual([{ value: 'u2' }]);
    expect(patch(group, { op: 'Remove', path: 'members', value: [{ value: 'u2' }] }).members).toEqual([{ value: 'u1' }]);
    expect(patch(group, { op: 'remove', path: 'members' })).not.toHaveProperty('members');
    expect(patch(group, { op: 'replace', path: 'members', value: [{ value: 'u9' }] }).members).toEqual([{ value: 'u9' }]);
  });

  it('keeps attributes it does not know, and leaves the input unchanged', () => {
    const input = { ...user, 'urn:example:custom': { costume: 'blue' } };
    const result = patch(input, { op: 'add', path: 'nickName', value: 'Ada' });
    expect(result['urn:example:custom']).toEqual({ costume: 'blue' });
    expect(input).not.toHaveProperty('nickName');
  });

  it('ignores id and meta in a no-path replace, refuses to remove them', () => {
    expect(patch(user, { op: 'replace', value: { id: 'other', displayName: 'Ada' } })).not.toHaveProperty('id');
    expect(() => patch(user, { op: 'remove', path: 'id' })).toThrow(expect.objectContaining({ status: 400, scimType: 'mutability' }));
  });

  it('refuses malformed requests with the RFC 7644 error types', () => {
    expect(() => readPatchRequest({ Operations: [] })).toThrow(expect.objectContaining({ scimType: 'invalidSyntax' }));
    expect(() => readPatchRequest({ Operations: [{ op: 'move', path: 'a' }] })).toThrow(expect.objectContaining({ scimType: 'invalidSyntax' }));
    expect(() => readPatchRequest({ Operations: [{ op: 'remove' }] })).toThrow(expect.objectContaining({ scimType: 'noTarget' }));
    expect(() => readPatchRequest({ Operations: [{ op: 'add', path: 'title' }] })).toThrow(expect.objectContaining({ scimType: 'invalidValue' }));
    expect(() => patch(user, { op: 'replace', path: 'emails[display eq "x" or type eq "y"].value', value: 'z' })).toThrow(
      expect.objectContaining({ scimType: 'noTarget' }),
    );
  });
});
