import { describe, expect, it } from 'vitest';
import { createNearMissIndex, editDistance } from './near-miss.js';

describe('near misses', () => {
  const index = createNearMissIndex(['Team', 'developers', 'my-gitlab-group/sub-group', 'ENT_ORGA_ADMINS']);

  it('names a case-only difference first', () => {
    expect(index.find('team')).toEqual({ name: 'Team', reason: 'case', distance: 0 });
    expect(index.find('ent_orga_admins')).toEqual({ name: 'ENT_ORGA_ADMINS', reason: 'case', distance: 0 });
  });

  it('names a GitLab full path against a plain name, both ways', () => {
    expect(index.find('acme/developers')).toEqual({ name: 'developers', reason: 'path', distance: 0 });
    expect(index.find('sub-group')).toEqual({ name: 'my-gitlab-group/sub-group', reason: 'path', distance: 0 });
  });

  it('names a misspelling within two edits, the closest first, and nothing beyond', () => {
    expect(index.find('devlopers')).toEqual({ name: 'developers', reason: 'edit', distance: 1 });
    expect(index.find('Developer')).toEqual({ name: 'developers', reason: 'edit', distance: 1 });
    expect(index.find('devloper')).toEqual({ name: 'developers', reason: 'edit', distance: 2 });
    expect(index.find('ENT_ORGB_ADMIN')).toEqual({ name: 'ENT_ORGA_ADMINS', reason: 'edit', distance: 2 });
    expect(index.find('designers')).toBeNull();
    expect(index.find('Everyone')).toBeNull();
  });

  it('never names the group itself', () => {
    expect(index.find('developers')).toBeNull();
  });

  it('computes bounded edit distances', () => {
    expect(editDistance('kitten', 'sitting', 5)).toBe(3);
    expect(editDistance('kitten', 'sitting', 2)).toBe(3);
    expect(editDistance('abc', 'abc', 2)).toBe(0);
    expect(editDistance('', 'ab', 2)).toBe(2);
    expect(editDistance('a', 'abcd', 2)).toBe(3);
  });
});
