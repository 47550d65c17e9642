import { describe, expect, it } from 'vitest';
import { readMongoUrl, redactUrl } from './url.js';

/** MongoDB URLs in messages: read with the driver's parser, the password never shown. */
describe('MongoDB URLs', () => {
  it('refuses a URL whose password holds an unescaped / or # without showing any of it', () => {
    const read = readMongoUrl('mongodb://jsuser:Pa/ss#w0rd@127.0.0.1:1/jitsync');
    expect(read.ok).toBe(false);
    const text = JSON.stringify(read);
    for (const part of ['Pa/ss', 'w0rd', 'jsuser']) expect(text).not.toContain(part);
    expect(text).toContain('percent-encode');
    expect(redactUrl('mongodb://jsuser:Pa/ss#w0rd@127.0.0.1:1/jitsync')).toBe('mongodb://…');
  });

  it('never shows any part of a password that holds an unescaped @', () => {
    const shown = redactUrl('mongodb://jsuser:S3cret@Passw0rd@127.0.0.1/jitsync');
    expect(shown).not.toContain('S3cret');
    expect(shown).not.toContain('Passw0rd');
  });

  it('keeps the user, hosts, database and options, and hides the password', () => {
    expect(redactUrl('mongodb://jsuser:s3cret@h1:1,h2:2/jitsync?replicaSet=rs0')).toBe('mongodb://jsuser:***@h1:1,h2:2/jitsync?replicaSet=rs0');
    expect(redactUrl('mongodb+srv://jsuser:s3cret@cluster.example.com/jitsync')).toBe('mongodb+srv://jsuser:***@cluster.example.com/jitsync');
  });

  it('reads the database of a URL whose percent-encoded password holds ?', () => {
    expect(readMongoUrl('mongodb://jsuser:pa%3Fss@127.0.0.1:27017/jitsync?authSource=admin')).toMatchObject({ ok: true, database: 'jitsync' });
    expect(readMongoUrl('mongodb://127.0.0.1:27017/?authSource=admin')).toMatchObject({ ok: true, database: null });
  });
});
