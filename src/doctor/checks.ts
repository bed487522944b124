// The static checks of `vopono doctor`: kernel features, programs, the daemon's socket and
// version, the user's access to it, and the config directory. Plain functions over a System.
import { join } from 'node:path';
import { configBase } from '../providers/paths.js';
import { searchPath, type Account, type FileInfo, type System } from './system.js';
import { result, type CheckResult } from './types.js';

const APT = 'sudo apt-get install';

// ---------------------------------------------------------------------------------------------
// Kernel features, probed for real in a throwaway network namespace that dies with the probe.

export interface KernelProbe {
  /** The probe could run at all (netns creation worked). */
  ran: boolean;
  /** Why it could not run. */
  error?: string;
  /** Whether it ran as root (false: inside an unprivileged user namespace). */
  privileged: boolean;
  results: Record<'veth' | 'nft' | 'tun' | 'wg', { ok: boolean; skipped?: boolean; error?: string }>;
}

const PROBE_SCRIPT = `
probe() { name=$1; shift; if out=$("$@" 2>&1); then echo "$name ok"; else echo "$name fail $(printf '%s' "$out" | head -n1)"; fi; }
echo "netns ok"
if command -v ip >/dev/null 2>&1; then
  probe veth ip link add vdoc0 type veth peer name vdoc1
  probe tun ip tuntap add dev vdoct0 mode tun
  probe wg ip link add vdocw0 type wireguard
else
  for n in veth tun wg; do echo "$n skip ip (iproute2) not installed"; done
fi
if command -v nft >/dev/null 2>&1; then probe nft nft add table inet vdoc; else echo "nft skip nft not installed"; fi
`;

/**
 * Runs the probe in a new network namespace: as root with `unshare --net`, otherwise inside an
 * unprivileged user namespace (`unshare --user --map-root-user --net`). Nothing outlives it.
 */
export function probeKernel(sys: System): KernelProbe {
  const privileged = sys.uid === 0;
  const empty: KernelProbe['results'] = {
    veth: { ok: false, skipped: true },
    nft: { ok: false, skipped: true },
    tun: { ok: false, skipped: true },
    wg: { ok: false, skipped: true },
  };
  const unshare = sys.which('unshare', searchPath(sys.env));
  if (!unshare)
    return { ran: false, privileged, error: 'unshare (util-linux) is not installed', results: empty };
  const args = privileged
    ? ['--net', '--', 'sh', '-c', PROBE_SCRIPT]
    : ['--user', '--map-root-user', '--net', '--', 'sh', '-c', PROBE_SCRIPT];
  const env = { ...sys.env, PATH: searchPath(sys.env).join(':'), LC_ALL: 'C' };
  const r = sys.run(unshare, args, { env, timeoutMs: 15_000 });
  const lines = r.stdout.split('\n');
  if (!lines.includes('netns ok')) {
    return {
      ran: false,
      privileged,
      error: (r.stderr.trim().split('\n')[0] ?? '') || `exit status ${String(r.status)}`,
      results: empty,
    };
  }
  const results = { ...empty };
  for (const line of lines) {
    const m = /^(veth|nft|tun|wg) (ok|fail|skip) ?(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1] as keyof KernelProbe['results'];
    results[key] =
      m[2] === 'ok'
        ? { ok: true }
        : m[2] === 'skip'
          ? { ok: false, skipped: true, error: m[3] ?? '' }
          : { ok: false, error: m[3] ?? '' };
  }
  return { ran: true, privileged, results };
}

export function kernelChecks(sys: System, probe: KernelProbe): CheckResult[] {
  const out: CheckResult[] = [];
  if (!probe.ran) {
    if (probe.privileged) {
      out.push(
        result(
          'kernel.netns',
          'network namespaces',
          'fail',
          `cannot create a network namespace: ${probe.error ?? ''}`,
          'use a kernel built with CONFIG_NET_NS=y; inside a container, give it CAP_SYS_ADMIN/CAP_NET_ADMIN',
        ),
      );
    } else {
      out.push(
        result(
          'kernel.netns',
          'network namespaces',
          'warn',
          `could not probe without root (${probe.error ?? 'unshare failed'})`,
          'run `sudo vopono doctor` to test the kernel for real',
        ),
      );
    }
    return out;
  }
  out.push(result('kernel.netns', 'network namespaces', 'pass', 'a network namespace was created'));
  const r = probe.results;
  out.push(
    r.veth.ok
      ? result('kernel.veth', 'veth pairs', 'pass', 'a veth pair was created')
      : r.veth.skipped
        ? result('kernel.veth', 'veth pairs', 'skip', `not tested: ${r.veth.error ?? ''}`, `${APT} iproute2`)
        : result(
            'kernel.veth',
            'veth pairs',
            'fail',
            `cannot create a veth pair: ${r.veth.error ?? ''}`,
            'load the module: `sudo modprobe veth` (kernel option CONFIG_VETH)',
          ),
  );
  out.push(
    r.nft.ok
      ? result('kernel.nftables', 'nftables', 'pass', 'an nftables table was created')
      : r.nft.skipped
        ? result(
            'kernel.nftables',
            'nftables',
            'skip',
            'nft is not installed, so the kernel side was not tested',
            `${APT} nftables`,
          )
        : result(
            'kernel.nftables',
            'nftables',
            'fail',
            `cannot create an nftables table: ${r.nft.error ?? ''}`,
            'load the module: `sudo modprobe nf_tables` (kernel option CONFIG_NF_TABLES), or use --firewall iptables',
          ),
  );
  out.push(
    r.tun.ok
      ? result('kernel.tun', 'TUN devices', 'pass', 'a TUN device was created')
      : r.tun.skipped
        ? result('kernel.tun', 'TUN devices', 'skip', `not tested: ${r.tun.error ?? ''}`, `${APT} iproute2`)
        : result(
            'kernel.tun',
            'TUN devices',
            'fail',
            `cannot create a TUN device: ${r.tun.error ?? ''}`,
            'load the module: `sudo modprobe tun` and check /dev/net/tun exists (needed by wireguard-go and OpenVPN)',
          ),
  );
  return out;
}

/** WireGuard works when either the kernel module or wireguard-go is available. */
export function wireguardCheck(sys: System, probe: KernelProbe): CheckResult {
  const title = 'WireGuard (kernel module or wireguard-go)';
  const kernel = probe.ran && probe.results.wg.ok;
  const moduleLoaded = sys.stat('/sys/module/wireguard')?.kind === 'dir';
  const go = sys.which('wireguard-go', searchPath(sys.env));
  if (kernel || moduleLoaded) {
    return result('wireguard', title, 'pass', `kernel WireGuard${go ? `; wireguard-go also at ${go}` : ''}`);
  }
  if (go) {
    const tun = probe.ran ? probe.results.tun.ok : true;
    if (!tun)
      return result(
        'wireguard',
        title,
        'fail',
        `wireguard-go at ${go}, but TUN devices do not work`,
        'see "TUN devices" above',
      );
    return result('wireguard', title, 'pass', `userspace wireguard-go at ${go} (no kernel module)`);
  }
  const unknown = !probe.ran && !probe.privileged;
  return result(
    'wireguard',
    title,
    'fail',
    `no WireGuard: ${unknown ? 'the kernel module could not be probed without root' : 'the kernel has no WireGuard module'} and wireguard-go is not on PATH`,
    `${APT} wireguard-go   (or use a kernel with the wireguard module: \`sudo modprobe wireguard\`)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Programs.

interface Program {
  bin: string;
  pkg: string;
  need: 'required' | 'optional';
  why: string;
}

const PROGRAMS: Program[] = [
  { bin: 'ip', pkg: 'iproute2', need: 'required', why: 'namespaces, links, routes' },
  { bin: 'nft', pkg: 'nftables', need: 'required', why: 'the killswitch firewall (default)' },
  { bin: 'wg', pkg: 'wireguard-tools', need: 'required', why: 'configures WireGuard interfaces' },
  { bin: 'iptables', pkg: 'iptables', need: 'optional', why: 'only for --firewall iptables' },
  { bin: 'openvpn', pkg: 'openvpn', need: 'optional', why: 'only for OpenVPN providers and configs' },
];

export function programChecks(sys: System): CheckResult[] {
  const dirs = searchPath(sys.env);
  return PROGRAMS.map((p) => {
    const found = sys.which(p.bin, dirs);
    const id = `bin.${p.bin}`;
    const title = `program ${p.bin}`;
    if (found) return result(id, title, 'pass', `${found} (${p.why})`);
    return result(
      id,
      title,
      p.need === 'required' ? 'fail' : 'warn',
      `${p.bin} is not on PATH (${p.why})`,
      `${APT} ${p.pkg}`,
    );
  });
}

/** vopono needs Node.js 20.19 or newer (package.json engines). */
export function nodeCheck(
  version: string = process.versions.node,
  execPath: string = process.execPath,
): CheckResult {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const ok = major > 20 || (major === 20 && minor >= 19);
  return ok
    ? result('node', 'Node.js', 'pass', `${version} at ${execPath}`)
    : result(
        'node',
        'Node.js',
        'fail',
        `${version} at ${execPath} is too old (20.19 or newer needed)`,
        'install Node.js 20.19+ (Debian 13 ships 20.19; or NodeSource / nvm), then reinstall vopono',
      );
}

export function launcherCheck(sys: System, launcher: string | undefined): CheckResult {
  const title = 'launcher (vopono-launch)';
  if (launcher === undefined) {
    return result(
      'launcher',
      title,
      'fail',
      'the native launcher is missing next to the vopono bundle',
      'rebuild it: `npm run build` in the checkout (or `make -C native`), or reinstall with scripts/install.sh',
    );
  }
  const st = sys.stat(launcher);
  if (!st || st.kind !== 'file' || (st.mode & 0o111) === 0) {
    return result(
      'launcher',
      title,
      'fail',
      `${launcher} is not an executable file`,
      'rebuild it: `npm run build` (or `make -C native`)',
    );
  }
  if ((st.mode & 0o022) !== 0 && st.uid !== 0 && sys.uid === 0) {
    return result(
      'launcher',
      title,
      'warn',
      `${launcher} is writable by others than root, and the daemon runs it as root`,
      `sudo chown root: ${launcher} && sudo chmod go-w ${launcher}`,
    );
  }
  return result('launcher', title, 'pass', launcher);
}

// ---------------------------------------------------------------------------------------------
// The user doctor speaks for: the invoking user under sudo, else this process's user.

export interface Subject {
  account: Account;
  /** The groups connect() will be checked against. */
  groups: number[];
  /** The groups the user will have at their next login (account database). */
  loginGroups: number[];
  /** Doctor runs as root for this user (sudo). */
  viaSudo: boolean;
  isRoot: boolean;
}

export function subjectOf(sys: System): Subject {
  const sudoUid = sys.uid === 0 && sys.env.SUDO_UID !== undefined ? Number(sys.env.SUDO_UID) : undefined;
  if (sudoUid !== undefined && Number.isInteger(sudoUid) && sudoUid !== 0) {
    const account = sys.accountByUid(sudoUid) ?? {
      name: sys.env.SUDO_USER ?? String(sudoUid),
      uid: sudoUid,
      gid: -1,
      home: '/',
    };
    const login = sys.loginGroups(account.name) ?? [];
    return { account, groups: login, loginGroups: login, viaSudo: true, isRoot: false };
  }
  const account = sys.accountByUid(sys.uid) ?? {
    name: String(sys.uid),
    uid: sys.uid,
    gid: -1,
    home: sys.env.HOME ?? '/',
  };
  return {
    account,
    groups: sys.groups,
    loginGroups: sys.loginGroups(account.name) ?? sys.groups,
    viaSudo: false,
    isRoot: sys.uid === 0,
  };
}

// ---------------------------------------------------------------------------------------------
// The daemon's socket.

/** How the daemon is (or would be) started here. */
export interface ServiceManager {
  /** systemd is PID 1. */
  systemd: boolean;
  /** Where vopono.socket is installed, if anywhere. */
  socketUnit?: string;
}

const UNIT_DIRS = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
];

export function serviceManager(sys: System): ServiceManager {
  const systemd = sys.stat('/run/systemd/system')?.kind === 'dir';
  const unit = UNIT_DIRS.map((d) => `${d}/vopono.socket`).find((p) => sys.stat(p) !== undefined);
  return unit === undefined ? { systemd } : { systemd, socketUnit: unit };
}

/** The command that starts the daemon on this machine. */
export function startFix(sm: ServiceManager, socketPath: string): string {
  const custom = socketPath !== '/run/vopono.sock';
  if (custom) return `start a daemon on that socket: sudo vopono daemon --socket ${socketPath}`;
  if (sm.systemd && sm.socketUnit) return 'sudo systemctl enable --now vopono.socket';
  if (sm.systemd)
    return 'install the units (sudo ./scripts/install.sh in a checkout), then: sudo systemctl enable --now vopono.socket';
  return 'systemd is not running here; start the daemon yourself: sudo vopono daemon &';
}

export function socketCheck(
  socketPath: string,
  st: FileInfo | undefined,
  sm: ServiceManager = { systemd: true, socketUnit: '/etc/systemd/system/vopono.socket' },
): CheckResult {
  const title = 'daemon socket';
  if (!st) {
    return result(
      'daemon.socket',
      title,
      'fail',
      `no daemon socket at ${socketPath} (the daemon is not running)`,
      startFix(sm, socketPath),
    );
  }
  if (st.kind !== 'socket') {
    return result(
      'daemon.socket',
      title,
      'fail',
      `${socketPath} exists but is not a socket`,
      `remove it (sudo rm ${socketPath}), then: ${startFix(sm, socketPath)}`,
    );
  }
  return result('daemon.socket', title, 'pass', socketPath);
}

const octal = (m: number): string => m.toString(8).padStart(4, '0');

/** Can `who` connect() to a socket with this owner/group/mode? (write permission on the file) */
export function socketAccessCheck(sys: System, socketPath: string, st: FileInfo, who: Subject): CheckResult {
  const title = 'access to the daemon socket';
  const group = sys.groupById(st.gid);
  const gname = group?.name ?? String(st.gid);
  const owner = sys.accountByUid(st.uid)?.name ?? String(st.uid);
  const desc = `${socketPath} is ${owner}:${gname} ${octal(st.mode)}`;
  const user = who.account.name;
  if (who.isRoot) return result('daemon.access', title, 'pass', `${desc}; root may always connect`);
  if (st.uid === who.account.uid && (st.mode & 0o200) !== 0)
    return result('daemon.access', title, 'pass', `${desc}; ${user} owns it`);
  const inGroupNow = who.groups.includes(st.gid) || who.account.gid === st.gid;
  if (inGroupNow && (st.mode & 0o020) !== 0) {
    return result(
      'daemon.access',
      title,
      'pass',
      `${desc}; ${user} is in group ${gname}${who.viaSudo ? ' (at login)' : ''}`,
    );
  }
  if ((st.mode & 0o002) !== 0) {
    return result(
      'daemon.access',
      title,
      'warn',
      `${desc}: every local user may use the daemon`,
      'restrict it to the vopono group: SocketMode=0660 in vopono.socket (the default), then `sudo systemctl restart vopono.socket`',
    );
  }
  if ((st.mode & 0o020) === 0) {
    return result(
      'daemon.access',
      title,
      'fail',
      `${desc}: the group may not connect (mode lacks g+w)`,
      'restore the socket mode: `sudo systemctl restart vopono.socket` (SocketMode=0660)',
    );
  }
  const inGroupLater = who.loginGroups.includes(st.gid) || (group?.members.includes(user) ?? false);
  if (inGroupLater) {
    return result(
      'daemon.access',
      title,
      'fail',
      `${desc}: ${user} was added to group ${gname}, but this login session predates it`,
      `log out and back in (or start a shell with \`newgrp ${gname}\`)`,
    );
  }
  return result(
    'daemon.access',
    title,
    'fail',
    `${desc}: ${user} is not in group ${gname}`,
    `sudo usermod -aG ${gname} ${user}   then log out and back in`,
  );
}

// ---------------------------------------------------------------------------------------------
// The config directory (~/.config/vopono), which upstream's `sudo vopono sync` may have left
// owned by root.

/** As src/providers/paths.ts resolves it (XDG_CONFIG_HOME, then HOME); under sudo, the invoking user's home. */
export function configDirOf(sys: System, who: Subject): string {
  if (who.viaSudo) return join(who.account.home, '.config', 'vopono');
  return join(configBase(sys.env), 'vopono');
}

export function configDirCheck(sys: System, who: Subject, dir: string, limit = 5000): CheckResult {
  const title = 'config directory ownership';
  const top = sys.stat(dir);
  if (!top)
    return result('config.dir', title, 'pass', `${dir} does not exist yet (\`vopono sync\` creates it)`);
  if (top.kind !== 'dir')
    return result(
      'config.dir',
      title,
      'fail',
      `${dir} is not a directory`,
      `move it away: mv ${dir} ${dir}.bak`,
    );
  const uid = who.account.uid;
  const wrong: string[] = [];
  let seen = 0;
  const walk = (path: string, st: FileInfo, depth: number): void => {
    if (seen++ > limit) return;
    if (st.uid !== uid) wrong.push(path);
    if (st.kind !== 'dir' || depth > 6) return;
    for (const name of sys.readDir(path)) {
      const child = join(path, name);
      const cst = sys.stat(child);
      if (cst) walk(child, cst, depth + 1);
    }
  };
  walk(dir, top, 0);
  const fix = `sudo chown -R ${who.account.name}: ${dir}`;
  if (wrong.length > 0) {
    const owners = [...new Set(wrong.map((p) => sys.stat(p)?.uid ?? -1))].map(
      (u) => sys.accountByUid(u)?.name ?? String(u),
    );
    return result(
      'config.dir',
      title,
      'fail',
      `${wrong.length} entr${wrong.length === 1 ? 'y' : 'ies'} not owned by ${who.account.name} (owned by ${owners.join(', ')}), e.g. ${wrong[0]!}` +
        (owners.includes('root') ? ' — left by running the old vopono with sudo?' : ''),
      fix,
    );
  }
  if ((top.mode & 0o200) === 0)
    return result('config.dir', title, 'fail', `${dir} is not writable by its owner`, `chmod u+w ${dir}`);
  return result(
    'config.dir',
    title,
    'pass',
    `${dir} (${seen} entr${seen === 1 ? 'y' : 'ies'}, all owned by ${who.account.name})`,
  );
}

/** config.toml must parse and hold valid values (upstream's format, read by the same code as exec). */
export async function configFileCheck(sys: System, dir: string): Promise<CheckResult | undefined> {
  const file = join(dir, 'config.toml');
  const text = sys.readText(file);
  if (text === undefined) return undefined;
  try {
    const { parseUserDefaults } = await import('../providers/user-config.js');
    await parseUserDefaults(text, file);
    return result('config.toml', 'config.toml', 'pass', `${file} parses`);
  } catch (e) {
    return result(
      'config.toml',
      'config.toml',
      'fail',
      (e instanceof Error ? e.message.split('\n')[0]! : String(e)).replace(/^(?!\/)/, `${file}: `),
      `fix it (keys and values as upstream vopono's config.toml), or move it away: mv ${file} ${file}.bak`,
    );
  }
}
