import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
import { connectorBaseSchema } from '../../connectors/base-config.js';
import { connectorDefinitions } from '../../connectors/registry.js';
import { isPlainObject } from './interpolate.js';

/**
 * jitsync.example.yaml keeps the promises of its header: every key of the config table (docs/configuration.md)
 * is there with the default the table documents, and every key of every connector type is shown
 * (the file connector's in the demo entry, the others' in the commented blocks), each block valid
 * for its type, with "default" marking exactly the keys that have one, and showing that default.
 */

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const exampleText = readFileSync(join(repoRoot, 'jitsync.example.yaml'), 'utf8');
const example = parse(exampleText) as Record<string, unknown>;
const reference = readFileSync(join(repoRoot, 'docs/configuration.md'), 'utf8');

/** The configuration table of docs/configuration.md: key → documented default (as written, backticks removed). */
function referenceTable(): Map<string, string> {
  const table = /^\| key \| default \| meaning \|\n\| --- \| --- \| --- \|\n((?:\|.*\|\n)+)/m.exec(reference)?.[1];
  if (!table) throw new Error('docs/configuration.md: the configuration table (| key | default | meaning |) is missing');
  const rows = new Map<string, string>();
  for (const line of table.trimEnd().split('\n')) {
    const [, key, value] = /^\| `([^`]+)` \| (.*?) \|/.exec(line) ?? [];
    if (key && value !== undefined) rows.set(key, value.replaceAll('`', ''));
  }
  return rows;
}

function valueAt(path: string): { found: boolean; value: unknown } {
  let node: unknown = example;
  for (const segment of path.split('.')) {
    if (!isPlainObject(node) || !(segment in node)) return { found: false, value: undefined };
    node = node[segment];
  }
  return { found: true, value: node };
}

/** The commented connector blocks, uncommented: `  # - id: …` up to the next uncommented line. */
function commentedConnectors(): Record<string, unknown>[] {
  const lines = exampleText.split('\n');
  const start = lines.findIndex((line) => line.startsWith('  # - id: '));
  const block: string[] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('  # ')) break;
    block.push(line.slice('  # '.length));
  }
  return parse(block.join('\n')) as Record<string, unknown>[];
}

/** The comment that follows `key:` in an entry's lines: "default", "example" or none. */
function marker(entryId: string, key: string): 'default' | 'example' | null {
  const lines = exampleText.split('\n');
  const from = lines.findIndex((line) => new RegExp(`- id: ${entryId}\\b`).test(line));
  for (const line of lines.slice(from + 1)) {
    if (/- id: /.test(line)) break;
    const match = new RegExp(`^ {2}(?:# )? {2}${key}: .*?#\\s*(default|example)\\b`).exec(line);
    if (match) return match[1] as 'default' | 'example';
    if (new RegExp(`^ {2}(?:# )? {2}${key}: `).test(line)) return null;
  }
  throw new Error(`${entryId}.${key} is not in jitsync.example.yaml`);
}

type ObjectSchema = z.ZodObject<z.ZodRawShape>;
const baseKeys = Object.keys(connectorBaseSchema.shape);

/** Checks one connector entry of the example against its type's schema. */
function checkEntry(entry: Record<string, unknown>, shownKeys: string[]): void {
  const id = String(entry.id);
  const definition = connectorDefinitions[entry.type as keyof typeof connectorDefinitions];
  expect(definition, `${id}: type ${String(entry.type)}`).toBeDefined();
  const schema = definition.configSchema as unknown as ObjectSchema;
  const parsed = schema.safeParse(entry);
  expect(parsed.error?.issues ?? [], id).toEqual([]);

  for (const key of Object.keys(schema.shape).filter((k) => !shownKeys.includes(k))) {
    expect(key in entry, `${id} shows ${key}`).toBe(true);
  }
  for (const key of Object.keys(entry)) {
    if (key === 'id' || key === 'type') continue;
    const { [key]: _shown, ...without } = entry;
    const omitted = schema.safeParse(without);
    const required = !omitted.success;
    const fallback = omitted.success ? (omitted.data as Record<string, unknown>)[key] : undefined;
    const hasDefault = !required && fallback !== undefined;
    const mark = marker(id, key);
    expect(mark === 'default', `${id}.${key}: marked "default" exactly when it has one`).toBe(hasDefault);
    if (hasDefault) expect((parsed.data as Record<string, unknown>)[key], `${id}.${key} shows its default`).toEqual(fallback);
    else if (!required) expect(mark, `${id}.${key} is optional, without a default: marked "example"`).toBe('example');
  }
}

describe('jitsync.example.yaml', () => {
  it('lists every key of the documented config table, with the default the table documents', () => {
    const rows = referenceTable();
    expect([...rows.keys()]).toEqual(expect.arrayContaining(['server.listen', 'store', 'provisioning.signUp', 'connectors', 'log.level']));
    for (const [key, documented] of rows) {
      const { found, value } = valueAt(key);
      expect(found, `${key} is in jitsync.example.yaml`).toBe(true);
      // The demo's organizations and connectors, and the tokens, are not defaults.
      if (['organizations', 'connectors'].includes(key) || documented === '(required)') continue;
      expect(value, key).toEqual(parse(documented));
    }
  });

  it('shows every key of the file connector in the demo entry', () => {
    const [demo, ...more] = example.connectors as Record<string, unknown>[];
    expect(more).toEqual([]);
    // `provisioning` overrides are shown commented out: the demo has none.
    expect(exampleText).toMatch(/^ {4}# provisioning: \{/m);
    checkEntry(demo!, ['provisioning']);
  });

  it('shows every key of every other connector type in a commented block that is valid as written', () => {
    const blocks = commentedConnectors();
    const types = Object.keys(connectorDefinitions).filter((type) => type !== 'file');
    expect(blocks.map((b) => b.type).sort()).toEqual(types.sort());
    // The keys every entry takes are shown once, in the demo entry.
    for (const block of blocks) checkEntry(block, baseKeys);
  });
});
