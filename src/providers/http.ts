// HTTP for sync: global fetch with a timeout, every failure turned into a message a user can act
// on, and each provider's base URL overridable by env (tests point it at a loopback server).

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Replaces the origin of `url` by the env override of the provider, keeping path and query. */
export function providerUrl(
  url: string,
  envName: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const base = envName !== undefined ? env[envName] : undefined;
  if (base === undefined || base === '') return url;
  const u = new URL(url);
  const b = new URL(base);
  const prefix = b.pathname.replace(/\/$/, '');
  return `${b.origin}${prefix}${u.pathname}${u.search}`;
}

export interface RequestOpts {
  method?: string;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string;
  timeoutMs?: number;
  /** What the request is for, used in error messages ("Mullvad relay list"). */
  what: string;
}

const TIMEOUT_MS = Number(process.env.VOPONO_HTTP_TIMEOUT_MS ?? '30000');

function causeOf(err: unknown): string {
  if (err instanceof Error) {
    const c = (err as Error & { cause?: unknown }).cause;
    if (c instanceof Error) {
      const code = (c as NodeJS.ErrnoException).code;
      return code !== undefined ? `${code} ${c.message}` : c.message;
    }
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
    return err.message;
  }
  return String(err);
}

export async function request(url: string, opts: RequestOpts): Promise<Response> {
  const headers: Record<string, string> = { 'user-agent': 'vopono', ...opts.headers };
  let body: string | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] = 'application/json';
  }
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.method ?? (body !== undefined ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'follow',
      signal: AbortSignal.timeout(opts.timeoutMs ?? TIMEOUT_MS),
    });
  } catch (err) {
    throw new HttpError(`could not reach ${host} for the ${opts.what}: ${causeOf(err)} (is the network up?)`);
  }
  if (!res.ok) {
    let detail = '';
    try {
      detail = (await res.text()).slice(0, 300).replace(/\s+/g, ' ').trim();
    } catch {
      /* ignore */
    }
    const hint =
      res.status === 401 || res.status === 403
        ? ' — check your credentials (or the account may have expired)'
        : '';
    throw new HttpError(
      `${opts.what}: ${host} answered HTTP ${res.status} ${res.statusText}${hint}${detail !== '' ? `: ${detail}` : ''}`,
      res.status,
    );
  }
  return res;
}

export async function getText(url: string, opts: RequestOpts): Promise<string> {
  const res = await request(url, opts);
  try {
    return await res.text();
  } catch (err) {
    throw new HttpError(`${opts.what}: the download from ${new URL(url).host} broke off: ${causeOf(err)}`);
  }
}

export async function getBytes(url: string, opts: RequestOpts): Promise<Uint8Array> {
  const res = await request(url, opts);
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw new HttpError(`${opts.what}: the download from ${new URL(url).host} broke off: ${causeOf(err)}`);
  }
}

/** GET/POST returning parsed JSON (unknown: callers validate with the helpers in check.ts). */
export async function getJson(url: string, opts: RequestOpts): Promise<unknown> {
  const text = await getText(url, opts);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(
      `${opts.what}: ${new URL(url).host} sent a malformed answer (not JSON): ${text.slice(0, 120).replace(/\s+/g, ' ')}`,
    );
  }
}
