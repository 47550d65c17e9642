const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** `30s`, `15m`, `1h`, `2d`, `500ms` → milliseconds; `null` when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  const amount = match?.[1];
  const unit = match?.[2];
  if (amount === undefined || unit === undefined || !isUnit(unit)) return null;
  const ms = Number(amount) * UNIT_MS[unit];
  return Number.isSafeInteger(ms) ? ms : null;
}

function isUnit(text: string): text is Unit {
  return Object.hasOwn(UNIT_MS, text);
}
