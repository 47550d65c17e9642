import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../support/daemon.js';
import { buildScenario, EXPECTED, EXPECTED_SUMMARY, type Scenario } from './scenario.js';

/** Debian's chromium package; `.ci/run` installs it. Missing → the suite fails, never skips. */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = resolve('test-artifacts/drift.png');

let s: Scenario;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) to run the drift report's browser test`);
  }
  s = await buildScenario();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    extraHTTPHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  // A browser asks for text/html first: no format parameter needed.
  const response = await page.goto(`${s.d.url}/v1/drift`);
  expect(response?.status()).toBe(200);
});

afterAll(async () => {
  await browser?.close();
  await s?.d.stop();
});

const visibleRows = () => page.locator('#drift tbody tr:not([hidden])');
const column = (key: string) => visibleRows().locator(`td:nth-child(${COLUMN_INDEX[key]})`).allTextContents();
const COLUMN_INDEX: Record<string, number> = { kind: 1, connector: 2, user: 3, organization: 4, group: 5, idpGroup: 6 };

describe('drift report page in Chromium', () => {
  it('shows a card per kind and every item as a row, escaped', async () => {
    expect(await page.title()).toBe('jitsync drift report');
    for (const [kind, count] of Object.entries(EXPECTED_SUMMARY)) {
      expect(await page.locator(`.card[data-kind="${kind}"] .count`).textContent(), kind).toBe(String(count));
    }
    expect(await page.locator('.card[data-kind="nested_or_overage"] .change').textContent()).toBe('+2 since last run');

    expect(await visibleRows().count()).toBe(EXPECTED.length);
    const shown = await Promise.all(
      ['kind', 'connector', 'user', 'organization', 'group', 'idpGroup'].map((key) => column(key)),
    );
    const table = EXPECTED.map((_, i) => shown.map((col) => col[i] ?? ''));
    expect(table).toEqual(EXPECTED.map((r) => [r[0], r[1], r[2] ?? '', r[3] ?? '', r[4] ?? '', r[5] ?? '']));
    expect(pageErrors).toEqual([]);
  });

  it('sorts by a column when its header is clicked, and reverses on a second click', async () => {
    const header = page.locator('th:has(button[data-key="user"])');
    await page.click('th button[data-key="user"]');
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    const users = await column('user');
    expect(users).toEqual([...users].sort((a, b) => a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' })));
    expect(users.at(-1)).toBe('sam@example.com');

    await page.click('th button[data-key="user"]');
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    expect((await column('user'))[0]).toBe('sam@example.com');

    await page.click('th button[data-key="group"]');
    expect(await header.getAttribute('aria-sort')).toBe('none');
    const groups = await column('group');
    expect(groups).toEqual([...groups].sort((a, b) => a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' })));
  });

  it('filters by text and by kind, and says how many rows it shows', async () => {
    await page.fill('#filter', 'sonar');
    // The rows naming sonar-users, sonar-user or the organization Sonar: exactly those are shown.
    const sonarRows = EXPECTED.filter((r) => r.some((v) => v?.toLowerCase().includes('sonar')));
    expect(sonarRows).toHaveLength(5);
    expect(await visibleRows().count()).toBe(sonarRows.length);
    expect(await page.locator('#shown').textContent()).toBe(`${sonarRows.length} of ${EXPECTED.length} rows`);
    const keys = ['kind', 'connector', 'organization', 'group', 'idpGroup'];
    const shown = await Promise.all(keys.map((key) => column(key)));
    const shownRows = shown[0]!.map((_, i) => shown.map((col) => col[i]).join(' | '));
    const expectedRows = sonarRows.map((r) => [r[0], r[1], r[3] ?? '', r[4] ?? '', r[5] ?? ''].join(' | '));
    expect(shownRows.sort()).toEqual(expectedRows.sort());

    await page.fill('#filter', '');
    await page.selectOption('#kind', 'blocked');
    expect(await column('user')).toEqual(expect.arrayContaining(['eve@example.com', 'sam@example.com']));
    expect(await visibleRows().count()).toBe(2);
    expect(await page.locator('#shown').textContent()).toBe(`2 of ${EXPECTED.length} rows`);

    // Text and kind together; then a card click toggles the kind filter.
    await page.fill('#filter', 'EVE@');
    expect(await column('user')).toEqual(['eve@example.com']);
    await page.fill('#filter', '');
    await page.click('.card[data-kind="stale"]');
    expect(await page.locator('#kind').inputValue()).toBe('stale');
    expect(await column('user')).toEqual(['olga@example.com']);
    await page.click('.card[data-kind="stale"]');
    expect(await visibleRows().count()).toBe(EXPECTED.length);
  });

  it('writes a screenshot for a human to look at', async () => {
    await page.click('th button[data-key="kind"]');
    mkdirSync(resolve('test-artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
