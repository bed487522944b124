// One exec: namespace (create or join), launcher, signals and resizes from the client, the exit
// status back to it, and the namespace released with the app.
import { closeSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { ClientMessage } from '../protocol/messages.js';
import { ProtocolError } from '../protocol/messages.js';
import type { ConnectionContext, Peer } from './connection.js';
import { Launch } from './launch.js';
import { log } from './log.js';
import { signalGroup } from './netns.js';
import type { NetnsRecord } from './vpn/backend.js';
import { hookEnv } from './vpn/hooks.js';

type ExecMessage = Extract<ClientMessage, { t: 'exec' }>;

let sessionCounter = 0;

export class ExecSession {
  private launch: Launch | undefined;
  private appPid = 0;
  private finished = false;
  private readonly id = `${process.pid}-${++sessionCounter}`;

  constructor(
    private readonly peer: Peer,
    private readonly req: ExecMessage,
    private readonly fds: number[],
    private readonly ctx: ConnectionContext,
  ) {}

  async run(): Promise<void> {
    const { creds } = this.peer;
    const { options } = this.req;
    let nsName: string | undefined;
    const command = this.req.argv.join(' ').slice(0, 200);
    try {
      const { state, created } = await this.ctx.manager.acquire({
        owner: creds.uid,
        gid: creds.gid,
        isRoot: creds.uid === 0,
        options,
        app: {
          pid: 0,
          uid: creds.uid,
          command: this.req.argv.slice(0, 16).map((a) => a.slice(0, 256)),
          startedAt: Date.now(),
          manager: process.pid,
          session: this.id,
        },
        progress: (message) => this.peer.send({ t: 'progress', message }),
      });
      nsName = state.record.name;
      if (this.peer.isClosed) throw new ProtocolError('internal', 'client went away during setup');
      if (options.createNetnsOnly) {
        this.closeFds();
        this.peer.send({ t: 'started', pid: 0, namespace: nsName, created });
        this.peer.send({ t: 'exit', code: 0, signal: null });
        this.peer.end();
        await this.ctx.manager.release(nsName, this.id);
        this.ctx.notifyChange();
        return;
      }
      // PTY mode when stdin is a terminal. The daemon checks the fd itself rather than trusting the flag.
      const pty = isatty(this.fds[0]!);
      const tty = {
        stdin: pty,
        stdout: pty && isatty(this.fds[1]!),
        stderr: pty && isatty(this.fds[2]!),
      };
      this.launch = new Launch({
        mode: pty ? 'pty' : 'pipe',
        netnsPath: `/run/netns/${nsName}`,
        etcDir: `/etc/netns/${nsName}`,
        uid: creds.uid,
        gid: creds.gid,
        groups: creds.groups,
        cwd: this.req.cwd,
        umask: this.req.umask ?? 0o022,
        cols: this.req.winsize?.cols ?? 80,
        rows: this.req.winsize?.rows ?? 24,
        tty,
        argv: this.req.argv,
        env: withNamespaceEnv(this.req.env, state.record),
        fds: [this.fds[0]!, this.fds[1]!, this.fds[2]!],
      });
      // The launcher (or the app) holds the client's fds now; ours must go.
      this.closeFds();
      this.peer.onClose(() => this.clientGone());
      this.appPid = await this.launch.appPid;
      if (this.appPid > 0) {
        await this.ctx.manager.setAppPid(nsName, this.id, this.appPid);
        this.peer.send({ t: 'started', pid: this.appPid, namespace: nsName, created });
        this.ctx.notifyChange();
        log(
          `session start uid=${creds.uid} pid=${this.appPid} ns=${nsName} mode=${pty ? 'pty' : 'pipe'} cmd=${JSON.stringify(command)}`,
        );
      }
      const result = await this.launch.done;
      this.finished = true;
      this.launch.close();
      if (result.failure) {
        const f = result.failure;
        this.peer.send({
          t: 'error',
          code: 'launch-failed',
          message: f.message,
          exitCode: f.exitCode,
          ...(f.hint ? { hint: f.hint } : {}),
        });
        log(`session failed uid=${creds.uid} ns=${nsName} cmd=${JSON.stringify(command)}: ${f.message}`);
      } else {
        this.peer.send({ t: 'exit', code: result.code, signal: result.signal });
        log(
          `session end uid=${creds.uid} pid=${this.appPid} ns=${nsName} exit=${result.signal ?? result.code}`,
        );
      }
      this.peer.end();
    } catch (err) {
      this.closeFds();
      if (err instanceof ProtocolError) this.peer.fail(err.code, err.message);
      else {
        log(`session error uid=${creds.uid}: ${err instanceof Error ? err.stack : String(err)}`);
        this.peer.fail(
          'internal',
          `internal error: ${err instanceof Error ? err.message : String(err)}`,
          'see the daemon log (journalctl -u vopono)',
        );
      }
    } finally {
      if (nsName)
        await this.ctx.manager
          .release(nsName, this.id)
          .catch((e: unknown) => log(`release failed: ${String(e)}`));
      this.ctx.notifyChange();
    }
  }

  onClientMessage(m: ClientMessage): void {
    if (m.t === 'resize') this.launch?.resize(m.cols, m.rows);
    else if (m.t === 'signal' && this.appPid > 0 && !this.finished) signalGroup(this.appPid, m.signal);
  }

  /** The client is gone (killed, terminal closed): hang up the app, as a closed terminal would. */
  private clientGone(): void {
    if (this.finished) return;
    if (this.appPid > 0) signalGroup(this.appPid, 'SIGHUP');
    else void this.launch?.appPid.then((pid) => pid > 0 && !this.finished && signalGroup(pid, 'SIGHUP'));
  }

  private closeFds(): void {
    for (const fd of this.fds.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }
}

/** The app sees where it runs, like hooks do. */
function withNamespaceEnv(env: string[], r: NetnsRecord): string[] {
  const ours = hookEnv(r);
  return [
    ...env.filter((e) => !/^VOPONO_(NS|NS_IP|HOST_IP|NS_IP6|HOST_IP6)=/.test(e)),
    ...Object.entries(ours).map(([k, v]) => `${k}=${v}`),
  ];
}
