import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import { parseListen, parseStore } from './schema.js';

describe('parseDuration', () => {
  it('reads an amount with a unit', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('0s')).toBe(0);
  });

  it('rejects anything else', () => {
    for (const text of ['', '15', 'm', '1.5h', '-1m', '10 minutes', '1w', '1h30m', '99999999999999999d']) {
      expect(parseDuration(text), text).toBeNull();
    }
  });
});

describe('parseListen', () => {
  it('reads host:port, bracketed IPv6 and port 0', () => {
    expect(parseListen('127.0.0.1:8787')).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(parseListen('localhost:80')).toEqual({ host: 'localhost', port: 80 });
    expect(parseListen('[::1]:8787')).toEqual({ host: '::1', port: 8787 });
    expect(parseListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('explains what is wrong', () => {
    expect(parseListen('8787')).toBe('expected host:port, e.g. 127.0.0.1:8787 or [::1]:8787');
    expect(parseListen('::1:8787')).toBe('expected host:port, e.g. 127.0.0.1:8787 or [::1]:8787');
    expect(parseListen('[nope]:8787')).toMatch(/must be an IPv6 address/);
    expect(parseListen('127.0.0.1:65536')).toBe('port must be between 0 and 65535');
  });
});

describe('parseStore', () => {
  it('reads sqlite paths against the base folder, and :memory:', () => {
    expect(parseStore('sqlite:./data/j.db', '/etc/jitsync')).toEqual({ kind: 'sqlite', path: '/etc/jitsync/data/j.db' });
    expect(parseStore('sqlite::memory:', '/etc/jitsync')).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(parseStore('sqlite:', '/x')).toMatch(/needs a file path/);
  });

  it('wants a database in a MongoDB URL, seed lists included', () => {
    expect(parseStore('mongodb://h1:27017,h2:27017/app?replicaSet=rs', '/x')).toEqual({
      kind: 'mongodb',
      url: 'mongodb://h1:27017,h2:27017/app?replicaSet=rs',
    });
    expect(parseStore('mongodb://u:p@h1/?authSource=admin', '/x')).toMatch(/must name a database/);
    expect(parseStore('mongodb://h1:27017', '/x')).toMatch(/must name a database/);
  });
});
