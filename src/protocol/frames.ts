// Length-prefixed msgpack frames: a 4-byte big-endian length, then the msgpack payload.
// One module owns the encoding; the cap is checked before any payload byte is buffered.
import { Packr } from 'msgpackr';

/** The largest frame either side accepts (an exec request with a big environment fits). */
export const MAX_FRAME = 1024 * 1024;

// Plain maps and arrays only: no records/structures extension, no class revival from the wire.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

export class FrameError extends Error {
  constructor(
    readonly code: 'too-large' | 'bad-frame',
    message: string,
  ) {
    super(message);
  }
}

export function encodeFrame(message: object): Buffer {
  const body = packr.pack(message);
  if (body.length > MAX_FRAME)
    throw new FrameError('too-large', `message of ${body.length} bytes exceeds the ${MAX_FRAME} byte limit`);
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Accumulates bytes and yields decoded values; throws FrameError on a bad length or payload. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly max = MAX_FRAME) {}

  push(data: Buffer): unknown[] {
    this.chunks.push(data);
    this.size += data.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.size < 4) break;
      const head = this.peek(4);
      const len = head.readUInt32BE(0);
      if (len > this.max)
        throw new FrameError('too-large', `frame of ${len} bytes exceeds the ${this.max} byte limit`);
      if (len === 0) throw new FrameError('bad-frame', 'empty frame');
      if (this.size < 4 + len) break;
      const whole = this.take(4 + len);
      try {
        out.push(packr.unpack(whole.subarray(4)));
      } catch {
        throw new FrameError('bad-frame', 'frame is not valid msgpack');
      }
    }
    return out;
  }

  /** Bytes received but not yet part of a whole frame. */
  get pending(): number {
    return this.size;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const whole = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return whole;
  }
}
