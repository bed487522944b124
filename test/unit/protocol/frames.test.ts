// The frame codec and the client-message checks: the first line of defence of a root daemon.
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME } from '../../../src/protocol/frames.js';
import { parseClientMessage, ProtocolError } from '../../../src/protocol/messages.js';

const hello = { t: 'hello', version: 1, client: 'test' };

function frameError(f: () => unknown): FrameError {
  try {
    f();
  } catch (err) {
    if (err instanceof FrameError) return err;
    throw err;
  }
  throw new Error('expected a FrameError');
}

function protocolError(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('expected a ProtocolError');
}

describe('FrameDecoder', () => {
  it('round-trips one frame', () => {
    expect(new FrameDecoder().push(encodeFrame(hello))).toEqual([hello]);
  });

  it('reassembles a frame split at every byte boundary', () => {
    const frame = encodeFrame({ t: 'list', pad: 'x'.repeat(300) });
    for (let cut = 1; cut < frame.length; cut++) {
      const d = new FrameDecoder();
      expect(d.push(frame.subarray(0, cut))).toEqual([]);
      expect(d.pending).toBe(cut);
      expect(d.push(frame.subarray(cut))).toEqual([{ t: 'list', pad: 'x'.repeat(300) }]);
      expect(d.pending).toBe(0);
    }
  });

  it('reassembles a frame fed one byte at a time (the length prefix split too)', () => {
    const frame = encodeFrame(hello);
    const d = new FrameDecoder();
    const out: unknown[] = [];
    for (const b of frame) out.push(...d.push(Buffer.from([b])));
    expect(out).toEqual([hello]);
  });

  it('yields several frames from one chunk, in order, and keeps a trailing partial one', () => {
    const a = encodeFrame(hello);
    const b = encodeFrame({ t: 'list' });
    const c = encodeFrame({ t: 'stop', target: 'vo1' });
    const d = new FrameDecoder();
    expect(d.push(Buffer.concat([a, b, c.subarray(0, 5)]))).toEqual([hello, { t: 'list' }]);
    expect(d.pending).toBe(5);
    expect(d.push(c.subarray(5))).toEqual([{ t: 'stop', target: 'vo1' }]);
  });

  it('accepts a frame of exactly the cap and refuses one byte more, before buffering the payload', () => {
    const d = new FrameDecoder(100);
    const ok = Buffer.alloc(4 + 100);
    ok.writeUInt32BE(100, 0);
    ok[4] = 0xc4; // bin8 of 98 bytes: 2 header bytes + 98 = 100
    ok[5] = 98;
    const [v] = d.push(ok);
    expect(Buffer.isBuffer(v) || v instanceof Uint8Array).toBe(true);
    const big = Buffer.alloc(4);
    big.writeUInt32BE(101, 0);
    const e = frameError(() => new FrameDecoder(100).push(big));
    expect(e.code).toBe('too-large');
    expect(e.message).toContain('101');
  });

  it('refuses a 4 GiB length prefix at once (from the header alone)', () => {
    const e = frameError(() => new FrameDecoder().push(Buffer.from([0xff, 0xff, 0xff, 0xff])));
    expect(e.code).toBe('too-large');
    expect(e.message).toContain(String(0xffffffff));
    expect(e.message).toContain(String(MAX_FRAME));
  });

  it('refuses an empty frame', () => {
    const e = frameError(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 0])));
    expect(e.code).toBe('bad-frame');
    expect(e.message).toMatch(/empty/);
  });

  it('refuses a payload that is not msgpack', () => {
    // a map that announces more entries than it has
    const e = frameError(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 2, 0x83, 0xa1])));
    expect(e.code).toBe('bad-frame');
    expect(e.message).toMatch(/msgpack/);
    // two values in one frame (trailing bytes)
    const e2 = frameError(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 2, 0x01, 0x02])));
    expect(e2.code).toBe('bad-frame');
    // a str8 header with no bytes after it
    expect(frameError(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 1, 0xd9]))).code).toBe('bad-frame');
  });

  it('refuses deeply nested msgpack (a stack overflow in the decoder is a bad frame, not a crash)', () => {
    const body = Buffer.alloc(200_000, 0x91); // [[[[...]]]]
    body[body.length - 1] = 0xc0;
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length, 0);
    expect(frameError(() => new FrameDecoder().push(Buffer.concat([head, body]))).code).toBe('bad-frame');
  });

  it('does not yield anything for a truncated frame', () => {
    const frame = encodeFrame(hello);
    const d = new FrameDecoder();
    expect(d.push(frame.subarray(0, frame.length - 1))).toEqual([]);
    expect(d.pending).toBe(frame.length - 1);
  });

  it('refuses to encode a message above the cap', () => {
    const e = frameError(() => encodeFrame({ t: 'x', blob: 'a'.repeat(MAX_FRAME + 1) }));
    expect(e.code).toBe('too-large');
  });
});

const options = { provider: 'none' };
const exec = {
  t: 'exec',
  argv: ['true'],
  cwd: '/',
  env: ['A=b'],
  options,
  tty: { stdin: false, stdout: false, stderr: false },
};

describe('parseClientMessage', () => {
  it('accepts well-formed messages and fills defaults', () => {
    expect(parseClientMessage(hello)).toEqual(hello);
    expect(parseClientMessage({ t: 'list' })).toEqual({ t: 'list' });
    const m = parseClientMessage(exec);
    expect(m.t).toBe('exec');
    if (m.t !== 'exec') return;
    expect(m.options.dns).toEqual([]);
    expect(m.options.keepAlive).toBe(false);
    expect(m.umask).toBeUndefined();
  });

  it('refuses non-maps and unknown types, naming the type', () => {
    for (const v of [null, 3, 'hello', [hello], Buffer.from('x')]) {
      const e = protocolError(() => parseClientMessage(v));
      expect(e.code).toBe('bad-request');
      expect(e.message).toContain("'message'");
    }
    const e = protocolError(() => parseClientMessage({ t: 'format-disk' }));
    expect(e.message).toContain('unknown message type');
    expect(e.message).toContain('format-disk');
    expect(protocolError(() => parseClientMessage({})).message).toContain('unknown message type');
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['hello version a string', { ...hello, version: '1' }, 'version'],
    ['hello version negative', { ...hello, version: -1 }, 'version'],
    ['hello version fractional', { ...hello, version: 1.5 }, 'version'],
    ['hello without client', { t: 'hello', version: 1 }, 'client'],
    ['exec argv empty', { ...exec, argv: [] }, 'argv'],
    ['exec argv not a list', { ...exec, argv: 'true' }, 'argv'],
    ['exec argv item not a string', { ...exec, argv: ['true', 3] }, 'argv[1]'],
    ['exec argv item with NUL', { ...exec, argv: ['a\0b'] }, 'argv[0]'],
    ['exec cwd missing', { ...exec, cwd: undefined }, 'cwd'],
    ['exec env item not a string', { ...exec, env: [{}] }, 'env[0]'],
    ['exec tty missing', { ...exec, tty: undefined }, 'tty'],
    ['exec tty.stdin not a bool', { ...exec, tty: { stdin: 'yes' } }, 'stdin'],
    ['exec winsize cols 0', { ...exec, winsize: { cols: 0, rows: 24 } }, 'cols'],
    ['exec umask too big', { ...exec, umask: 0o1000 }, 'umask'],
    ['exec options missing', { ...exec, options: undefined }, 'options'],
    ['exec provider missing', { ...exec, options: {} }, 'provider'],
    ['exec provider too long', { ...exec, options: { provider: 'p'.repeat(65) } }, 'provider'],
    ['exec firewall unknown', { ...exec, options: { ...options, firewall: 'pf' } }, 'firewall'],
    ['exec port 0', { ...exec, options: { ...options, openPorts: [0] } }, 'openPorts[0]'],
    ['exec port 70000', { ...exec, options: { ...options, forward: [80, 70000] } }, 'forward[1]'],
    ['exec dns not a list', { ...exec, options: { ...options, dns: '1.1.1.1' } }, 'dns'],
    ['exec keepAlive not a bool', { ...exec, options: { ...options, keepAlive: 1 } }, 'keepAlive'],
    [
      'exec customConfig content missing',
      { ...exec, options: { ...options, customConfig: { name: 'x' } } },
      'content',
    ],
    ['exec interface too long', { ...exec, options: { ...options, interface: 'x'.repeat(16) } }, 'interface'],
    ['resize rows a string', { t: 'resize', cols: 80, rows: '24' }, 'rows'],
    ['signal not forwarded', { t: 'signal', signal: 'SIGKILL' }, 'signal'],
    ['stop target missing', { t: 'stop' }, 'target'],
  ];
  for (const [what, msg, field] of cases) {
    it(`refuses ${what}, naming '${field}'`, () => {
      const e = protocolError(() => parseClientMessage(msg));
      expect(e.code).toBe('bad-request');
      expect(e.message).toContain(`field '${field}'`);
    });
  }

  it('bounds the total size of argv', () => {
    const argv = Array.from({ length: 5 }, () => 'a'.repeat(120 * 1024));
    const e = protocolError(() => parseClientMessage({ ...exec, argv }));
    expect(e.message).toContain("field 'argv'");
  });

  it('decodes what encodeFrame made into a valid exec request', () => {
    const [raw] = new FrameDecoder().push(encodeFrame(exec));
    expect(parseClientMessage(raw)).toMatchObject({ t: 'exec', argv: ['true'], cwd: '/' });
  });
});
