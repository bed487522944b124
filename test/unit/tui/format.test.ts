import { describe, expect, it } from 'vitest';
import { buildIndex, filterRows } from '../../../src/tui/filter.js';
import {
  describeExit,
  fit,
  wrapLines,
  formatDuration,
  parsePorts,
  splitCommand,
  windowStart,
} from '../../../src/tui/format.js';
import { makeServers } from './fixtures.js';

describe('splitCommand', () => {
  it('splits words with quotes and backslashes', () => {
    expect(splitCommand('bash')).toEqual(['bash']);
    expect(splitCommand('  firefox  --new-window  ')).toEqual(['firefox', '--new-window']);
    expect(splitCommand(`echo 'a b' "c \\"d\\"" e\\ f ''`)).toEqual(['echo', 'a b', 'c "d"', 'e f', '']);
  });
  it('hands shell syntax to sh -c', () => {
    expect(splitCommand('curl -s ifconfig.co | head -1')).toEqual([
      '/bin/sh',
      '-c',
      'curl -s ifconfig.co | head -1',
    ]);
    expect(splitCommand('echo "$HOME"')).toEqual(['/bin/sh', '-c', 'echo "$HOME"']);
    expect(splitCommand("echo '$HOME'")).toEqual(['echo', '$HOME']);
  });
  it('rejects empty lines and open quotes', () => {
    expect(() => splitCommand('   ')).toThrow(/type a command/);
    expect(() => splitCommand("echo 'x")).toThrow(/unmatched/);
  });
});

describe('helpers', () => {
  it('parses ports and describes exits and durations', () => {
    expect(parsePorts('80, 443 8080')).toEqual([80, 443, 8080]);
    expect(() => parsePorts('80 x')).toThrow(/'x' is not a port/);
    expect(() => parsePorts('0')).toThrow();
    expect(describeExit({ code: 4 })).toBe('exit 4');
    expect(describeExit({ signal: 'SIGINT' })).toBe('killed by SIGINT');
    expect(formatDuration(5_400)).toBe('5s');
    expect(formatDuration(65_000)).toBe('1m 05s');
    expect(formatDuration(7_500_000)).toBe('2h 05m');
    expect(formatDuration(90_000_000)).toBe('1d 01h');
  });
  it('fits text to a width and keeps the selection in the window', () => {
    expect(fit('abc', 5)).toBe('abc  ');
    expect(fit('abcdef', 4)).toBe('abc~');
    expect(windowStart(0, 100, 10)).toBe(0);
    expect(windowStart(50, 100, 10)).toBe(45);
    expect(windowStart(99, 100, 10)).toBe(90);
    expect(windowStart(3, 5, 10)).toBe(0);
  });
});

describe('filterRows', () => {
  const rows = makeServers('mullvad', 2000);
  const index = buildIndex(rows);
  it('matches all words, case-insensitively, across name, country, city, host and protocol', () => {
    const m = filterRows(index, 'TOKYO openvpn');
    expect(m.length).toBeGreaterThan(0);
    for (const i of m) expect(rows[i]).toMatchObject({ city: 'Tokyo', protocol: 'openvpn' });
  });
  it('gives the same result incrementally as from scratch, also when a word is extended or added', () => {
    const queries = [
      's',
      'se',
      'se-',
      'se-g',
      'se-got w',
      'se-got wg',
      'se-got wg 1',
      'se-got wg 12',
      'se-got wg 12 example',
    ];
    let prev = { query: '', matches: filterRows(index, '') };
    for (const q of queries) {
      const inc = filterRows(index, q, prev);
      expect(inc).toEqual(filterRows(index, q));
      prev = { query: q, matches: inc };
    }
    // not a refinement: a new unrelated query searches everything again
    expect(filterRows(index, 'br', prev)).toEqual(filterRows(index, 'br'));
  });
});

describe('wrapLines', () => {
  it('wraps words, cuts long words, and marks a text longer than the lines with ~', () => {
    expect(wrapLines('a bb ccc dddd', 6, 3)).toEqual(['a bb', 'ccc', 'dddd']);
    expect(wrapLines('abcdefghij', 4, 3)).toEqual(['abcd', 'efgh', 'ij']);
    const out = wrapLines('one two three four five six seven', 9, 2);
    expect(out).toHaveLength(2);
    expect(out[1]!.endsWith('~')).toBe(true);
    expect(out.every((l) => l.length <= 9)).toBe(true);
  });
});
