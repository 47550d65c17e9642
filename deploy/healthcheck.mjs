// The container's health check: exit 0 when jitsync answers GET /readyz with 200, else 1.
// Plain Node (global fetch), because the image has no curl. Usage: node healthcheck.mjs [URL]
const url = process.argv[2] ?? 'http://127.0.0.1:8787/readyz';
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4_000) });
  process.exit(response.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
