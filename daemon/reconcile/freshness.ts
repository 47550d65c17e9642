/**
 * The login's freshness rule, shared by the login (which reads the cache only while it is
 * younger than `staleAfter`) and the drift report (`stale`): a complete pre-warm run confirms
 * every cache entry as of its start, even one it did not rewrite (an incremental run writes only
 * what changed), so an entry is as fresh as `max(fetchedAt, lastCompleteRunAt)`. Pure.
 */
export function confirmedAt(fetchedAt: string, lastCompleteRunAt: string | null): string {
  return lastCompleteRunAt && lastCompleteRunAt > fetchedAt ? lastCompleteRunAt : fetchedAt;
}
