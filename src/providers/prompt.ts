// Prompters for sync: answers given by flags or env (`VOPONO_SYNC_<KEY>`) are used as they are;
// anything else is asked on the terminal (plain readline), or is an error naming the flag and env
// variable that would answer it when there is no terminal.
import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import type { Prompter } from './types.js';

export interface PrompterOptions {
  answers: Record<string, string | undefined>;
  interactive: boolean;
  env?: NodeJS.ProcessEnv;
  /** Where questions and progress go (stderr). */
  out?: NodeJS.WritableStream;
  input?: NodeJS.ReadableStream;
}

export const envKey = (key: string): string => `VOPONO_SYNC_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
export const flagOf = (key: string): string => `--${key.replace(/_/g, '-')}`;

export class NoAnswerError extends Error {}

export function createPrompter(opts: PrompterOptions): Prompter & { close(): void } {
  const env = opts.env ?? process.env;
  const out = opts.out ?? process.stderr;
  let rl: Interface | undefined;
  let muted = false;
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      if (!muted) out.write(chunk);
      cb();
    },
  });
  const ask = async (q: string, secret = false): Promise<string> => {
    rl ??= createInterface({ input: opts.input ?? process.stdin, output: sink, terminal: true });
    // readline draws the prompt itself (a prompt written around it would be erased on refresh);
    // for a secret, everything after the prompt (the echo of what is typed) is muted
    const ac = new AbortController();
    const onSigint = (): void => ac.abort();
    rl.once('SIGINT', onSigint);
    const answer = rl.question(q, { signal: ac.signal });
    muted = secret;
    try {
      return await answer;
    } catch (err) {
      if (ac.signal.aborted) {
        out.write('\n');
        throw new Error('interrupted; nothing was changed');
      }
      throw err;
    } finally {
      rl?.off('SIGINT', onSigint);
      muted = false;
      if (secret) out.write('\n');
    }
  };
  const given = (key: string): string | undefined => {
    const v = opts.answers[key] ?? env[envKey(key)];
    return v !== undefined && v !== '' ? v : undefined;
  };
  const missing = (key: string, question: string): never => {
    throw new NoAnswerError(
      `${question.replace(/[:?]\s*$/, '')}: no answer given; pass ${flagOf(key)} or set ${envKey(key)} (or run vopono sync on a terminal)`,
    );
  };

  return {
    async text(key, question, o = {}) {
      const g = given(key);
      if (g !== undefined) {
        const bad = o.validate?.(g.trim());
        if (bad !== undefined) throw new Error(`${flagOf(key)}: ${bad}`);
        return g.trim();
      }
      if (!opts.interactive) {
        if (o.default !== undefined) return o.default;
        return missing(key, question);
      }
      for (;;) {
        const d = o.default !== undefined ? ` [${o.default}]` : '';
        const a = (await ask(`${question}${d}: `, o.secret === true)).trim();
        const v = a === '' && o.default !== undefined ? o.default : a;
        if (v === '') continue;
        const bad = o.validate?.(v);
        if (bad === undefined) return v;
        out.write(`  ${bad}\n`);
      }
    },
    async choice(key, question, choices, defaultValue) {
      const pick = (a: string): string | undefined => {
        const n = Number(a);
        if (Number.isInteger(n) && n >= 1 && n <= choices.length) return choices[n - 1]!.value;
        const low = a.toLowerCase();
        return choices.find((c) => c.value.toLowerCase() === low || c.label.toLowerCase() === low)?.value;
      };
      const g = given(key);
      if (g !== undefined) {
        const v = pick(g.trim());
        if (v === undefined)
          throw new Error(`${flagOf(key)}: '${g}' is not one of: ${choices.map((c) => c.value).join(', ')}`);
        return v;
      }
      if (!opts.interactive) {
        if (defaultValue !== undefined) return defaultValue;
        return missing(key, `${question} (one of: ${choices.map((c) => c.value).join(', ')})`);
      }
      out.write(`${question}\n`);
      choices.forEach((c, i) =>
        out.write(`  ${i + 1}) ${c.label}${c.value === defaultValue ? ' (default)' : ''}\n`),
      );
      for (;;) {
        const a = (await ask(`Choose 1-${choices.length}: `)).trim();
        if (a === '' && defaultValue !== undefined) return defaultValue;
        const v = pick(a);
        if (v !== undefined) return v;
      }
    },
    async confirm(key, question, defaultValue) {
      const parse = (a: string): boolean | undefined =>
        /^(y|yes|true|1)$/i.test(a) ? true : /^(n|no|false|0)$/i.test(a) ? false : undefined;
      const g = given(key);
      if (g !== undefined) {
        const v = parse(g.trim());
        if (v === undefined) throw new Error(`${flagOf(key)}: expected yes or no, got '${g}'`);
        return v;
      }
      if (!opts.interactive) return defaultValue;
      for (;;) {
        const a = (await ask(`${question} [${defaultValue ? 'Y/n' : 'y/N'}]: `)).trim();
        if (a === '') return defaultValue;
        const v = parse(a);
        if (v !== undefined) return v;
      }
    },
    hasAnswer(key) {
      return given(key) !== undefined;
    },
    info(message) {
      out.write(`${message}\n`);
    },
    close() {
      rl?.close();
      rl = undefined;
    },
  };
}
