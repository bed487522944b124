// Is the daemon there, and does it speak this client's protocol? One real conversation: hello +
// list, through the same client code `vopono exec` uses.
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { VERSION } from '../version.js';
import { startFix, type ServiceManager } from './checks.js';
import { result, type CheckResult } from './types.js';

export interface DaemonProbe {
  reachable: boolean;
  daemonVersion?: string;
  protocol?: number;
  namespaces?: number;
  error?: {
    kind: 'missing' | 'refused' | 'denied' | 'timeout' | 'closed' | 'error' | 'protocol';
    message: string;
    hint?: string;
  };
}

export async function probeDaemon(socketPath: string, timeoutMs = 5000): Promise<DaemonProbe> {
  const { connectSocket, Conversation, DaemonUnavailable } = await import('../cli/client.js');
  let conv: InstanceType<typeof Conversation> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DaemonProbe>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          reachable: false,
          error: { kind: 'timeout', message: `no answer from ${socketPath} within ${timeoutMs} ms` },
        }),
      timeoutMs,
    );
  });
  const talk = async (): Promise<DaemonProbe> => {
    try {
      conv = new Conversation(await connectSocket(socketPath));
    } catch (e) {
      if (e instanceof DaemonUnavailable)
        return { reachable: false, error: { kind: e.reason, message: e.message } };
      return {
        reachable: false,
        error: { kind: 'error', message: e instanceof Error ? e.message : String(e) },
      };
    }
    conv.start({ t: 'list' });
    const hello = await conv.next();
    if (hello === null)
      return {
        reachable: false,
        error: { kind: 'closed', message: 'the daemon closed the connection during the handshake' },
      };
    if (hello.t === 'error') {
      const kind = hello.code === 'bad-version' ? 'protocol' : 'error';
      return {
        reachable: true,
        error: { kind, message: hello.message, ...(hello.hint ? { hint: hello.hint } : {}) },
      };
    }
    if (hello.t !== 'welcome')
      return {
        reachable: true,
        error: { kind: 'error', message: `unexpected '${hello.t}' instead of welcome` },
      };
    const probe: DaemonProbe = { reachable: true, daemonVersion: hello.daemon, protocol: hello.version };
    if (hello.version !== PROTOCOL_VERSION) {
      probe.error = {
        kind: 'protocol',
        message: `the daemon speaks protocol ${hello.version}, this client ${PROTOCOL_VERSION}`,
      };
      return probe;
    }
    const answer = await conv.next();
    if (answer?.t === 'list-result') probe.namespaces = answer.namespaces.length;
    else if (answer?.t === 'error')
      probe.error = { kind: 'error', message: answer.message, ...(answer.hint ? { hint: answer.hint } : {}) };
    return probe;
  };
  try {
    return await Promise.race([talk(), timeout]);
  } finally {
    clearTimeout(timer);
    conv?.close();
  }
}

export function daemonCheck(socketPath: string, p: DaemonProbe, sm?: ServiceManager): CheckResult {
  const title = 'daemon answers, same protocol';
  const restart =
    sm === undefined || (sm.systemd && socketPath === '/run/vopono.sock')
      ? 'sudo systemctl restart vopono.socket vopono.service'
      : `restart the daemon: sudo vopono daemon --socket ${socketPath}   (it replaces a stale socket file)`;
  if (!p.error) {
    const ns =
      p.namespaces === undefined ? '' : `, ${p.namespaces} namespace${p.namespaces === 1 ? '' : 's'} active`;
    return result(
      'daemon.version',
      title,
      'pass',
      `vopono ${p.daemonVersion ?? '?'} daemon, protocol ${p.protocol ?? '?'}${ns}`,
    );
  }
  const e = p.error;
  switch (e.kind) {
    case 'missing':
      return result(
        'daemon.version',
        title,
        'fail',
        `no daemon at ${socketPath}`,
        sm ? startFix(sm, socketPath) : 'sudo systemctl enable --now vopono.socket',
      );
    case 'refused':
      return result(
        'daemon.version',
        title,
        'fail',
        `${socketPath} exists but nothing listens on it (daemon stopped or crashed)`,
        restart,
      );
    case 'denied':
      return result('daemon.version', title, 'skip', 'not tried: no permission on the socket (see above)');
    case 'protocol':
      return result(
        'daemon.version',
        title,
        'fail',
        `version mismatch: ${e.message} (this client is vopono ${VERSION}, protocol ${PROTOCOL_VERSION}; daemon ${p.daemonVersion ?? 'unknown'})`,
        e.hint ?? 'restart the daemon after upgrading vopono: sudo systemctl restart vopono.service',
      );
    case 'timeout':
    case 'closed':
    case 'error':
      return result(
        'daemon.version',
        title,
        'fail',
        e.message,
        e.hint ?? `${restart}; see its log (\`journalctl -u vopono\` under systemd)`,
      );
  }
}
