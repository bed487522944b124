// Starts the native launcher (native/launcher.c) for one app and follows it: the spec goes in on
// fd 3, status lines come back on fd 4. Pipe mode: the launcher becomes the app, holding the
// client's fds itself. PTY mode: it runs the app on a new PTY and bridges it with the client's
// terminal, then reports the app's wait status.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';
import type { Readable, Writable } from 'node:stream';

export interface LaunchSpec {
  mode: 'pipe' | 'pty';
  netnsPath: string;
  etcDir: string;
  uid: number;
  gid: number;
  groups: number[];
  cwd: string;
  umask: number;
  cols: number;
  rows: number;
  tty: { stdin: boolean; stdout: boolean; stderr: boolean };
  argv: string[];
  env: string[];
  /** The client's stdin, stdout, stderr. */
  fds: [number, number, number];
}

export interface LaunchFailure {
  step: string;
  errno: number;
  /** What the user reads, e.g. "cannot run 'fooo': no such command". */
  message: string;
  hint?: string;
  exitCode: number;
}

export interface LaunchResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  failure?: LaunchFailure;
}

export function launcherPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/vopono.js and dist/vopono-launch sit side by side; from sources (tests) use dist/
  for (const p of [join(here, 'vopono-launch'), join(here, '..', '..', 'dist', 'vopono-launch')])
    if (existsSync(p)) return p;
  throw new Error('the launcher (vopono-launch) is missing: run `npm run build`');
}

export function encodeSpec(s: LaunchSpec): Buffer {
  const ttyFlags = `${s.tty.stdin ? '0' : ''}${s.tty.stdout ? '1' : ''}${s.tty.stderr ? '2' : ''}`;
  const fields = [
    'V1',
    s.mode,
    s.netnsPath,
    s.etcDir,
    String(s.uid),
    String(s.gid),
    String(s.groups.length),
    ...s.groups.map(String),
    s.cwd,
    String(s.umask),
    String(s.cols),
    String(s.rows),
    ttyFlags,
    String(s.argv.length),
    ...s.argv,
    String(s.env.length),
    ...s.env,
  ];
  const body = Buffer.from(fields.join('\0') + '\0');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
}

export class Launch {
  readonly child: ChildProcess;
  /** pid of the app itself (its process group id): the launcher in pipe mode, its child in PTY mode. */
  appPid: Promise<number>;
  readonly done: Promise<LaunchResult>;
  private readonly control: Writable;

  constructor(spec: LaunchSpec) {
    // A clean environment: the user's environment reaches only the final exec, through the spec.
    this.child = spawn(launcherPath(), [], {
      stdio: [spec.fds[0], spec.fds[1], spec.fds[2], 'pipe', 'pipe'],
      env: {},
      detached: true, // a new session: the app's process group can be signalled as a whole
    });
    const control = this.child.stdio[3] as Writable | null;
    const status = this.child.stdio[4] as Readable | null;
    if (!control || !status) throw new Error('launcher pipes missing');
    this.control = control;
    control.on('error', () => undefined); // launcher gone; its exit is reported below
    control.write(encodeSpec(spec));
    if (spec.mode === 'pipe') control.end();

    let failure: LaunchFailure | undefined;
    let reported: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let resolvePid!: (pid: number) => void;
    this.appPid = new Promise((r) => (resolvePid = r));
    if (spec.mode === 'pipe') resolvePid(this.child.pid ?? 0);

    let buffered = '';
    status.setEncoding('utf8');
    status.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const [kind, a, b] = line.split(' ');
        if (kind === 'pid') resolvePid(Number(a));
        else if (kind === 'err') failure = describeFailure(a ?? '?', Number(b), spec);
        else if (kind === 'exit') reported = { code: Number(a), signal: null };
        else if (kind === 'signal') reported = { code: null, signal: signalName(Number(a)) };
      }
    });
    const statusClosed = new Promise<void>((r) => status.on('close', () => r()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
      this.child.on('error', () => resolve({ code: 125, signal: null }));
    });
    this.done = (async () => {
      const own = await exited;
      await statusClosed;
      resolvePid(0);
      const result = spec.mode === 'pty' ? (reported ?? own) : own;
      if (failure) return { ...result, code: failure.exitCode, signal: null, failure };
      return result;
    })();
  }

  resize(cols: number, rows: number): void {
    if (!this.control.writableEnded && !this.control.destroyed)
      this.control.write(`resize ${cols} ${rows}\n`);
  }

  close(): void {
    if (!this.control.destroyed) this.control.destroy();
  }
}

function signalName(n: number): NodeJS.Signals {
  const entry = Object.entries(constants.signals).find(([, v]) => v === n);
  return (entry?.[0] ?? 'SIGKILL') as NodeJS.Signals; // a name from the OS's own table
}

function errnoText(errno: number): { name: string; text: string } {
  const e = getSystemErrorMap().get(-errno);
  return { name: e?.[0] ?? `errno ${errno}`, text: e?.[1] ?? `errno ${errno}` };
}

const STEP_TEXT: Record<string, string> = {
  netns: 'open the network namespace',
  setns: 'enter the network namespace',
  unshare: 'create a private mount namespace',
  'mount-private': 'make mounts private',
  'bind-etc': "mount the namespace's resolv.conf/hosts",
  setgroups: 'set groups',
  setresgid: 'set the group id',
  setresuid: 'set the user id',
  no_new_privs: 'set no_new_privs',
  openpt: 'open a terminal',
  'chown-pty': 'give the terminal to the user',
  'controlling-tty': 'make the terminal the controlling terminal',
  spec: 'read the launch request',
};

export function describeFailure(
  step: string,
  errno: number,
  spec: Pick<LaunchSpec, 'argv' | 'cwd'>,
): LaunchFailure {
  const { name, text } = errnoText(errno);
  const cmd = spec.argv[0] ?? '';
  if (step === 'exec') {
    if (name === 'ENOENT' || name === 'ENOTDIR')
      return {
        step,
        errno,
        message: `cannot run '${cmd}': no such command`,
        hint: 'check the name, or give its full path (PATH is your own PATH)',
        exitCode: 127,
      };
    return {
      step,
      errno,
      message: `cannot run '${cmd}': ${name === 'EACCES' ? 'permission denied (not executable?)' : text}`,
      exitCode: 126,
    };
  }
  if (step === 'chdir')
    return {
      step,
      errno,
      message: `cannot enter working directory '${spec.cwd}': ${text}`,
      hint: 'run from a directory you can enter, or pass -w/--working-directory',
      exitCode: 125,
    };
  return { step, errno, message: `could not ${STEP_TEXT[step] ?? step}: ${text}`, exitCode: 125 };
}
