// The OpenVPN variant of the test world: a provider namespace running a real OpenVPN server
// (PKI made at run time with openssl in the world's private temp dir), username/password checked
// by a small verify script (this is the provider's side, run by root for the test world only),
// pushed DNS (dnsmasq on the server's tunnel address) and the same HTTP server.
// Clients reach the server's veth address through the host (the provider namespace routes back
// through the host veth); the caller decides how (see connectThroughHost).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandRunner } from '../daemon/vpn/backend.js';
import {
  createBaseWorld,
  destroyBaseWorld,
  startDnsmasq,
  startHttpServer,
  startInWorld,
  waitForLog,
  HTTP_PORT,
  TEST_DOMAIN,
  type BaseWorld,
  type DnsServer,
  type WorldOptions,
} from './peer.js';

export const OPENVPN_PORT = 1194;

export interface OpenvpnWorld {
  nsName: string;
  hostVeth: string;
  hostIp: string;
  peerIp: string;
  /** The server's tunnel address (HTTP and DNS listen there). */
  tunnelIp: string;
  tunnelIp6: string;
  httpPort: number;
  domain: string;
  username: string;
  password: string;
  /** A client config with everything inline (ca/cert/key), `auth-user-pass`, remote = the server's veth address. */
  clientConfig: string;
  serverPid: number;
  serverLog: string;
  dns: DnsServer;
  base: BaseWorld;
  destroy(): Promise<void>;
}

async function makePki(
  runner: CommandRunner,
  dir: string,
): Promise<Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string>> {
  const p = (f: string): string => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await runner.run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=vopono test CA',
  ]);
  writeFileSync(
    p('server.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\n',
  );
  writeFileSync(
    p('client.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\nextendedKeyUsage=clientAuth\n',
  );
  for (const who of ['server', 'client']) {
    await runner.run('openssl', [
      'req',
      ...ec,
      '-keyout',
      p(`${who}.key`),
      '-out',
      p(`${who}.csr`),
      '-subj',
      `/CN=vopono-test-${who}`,
    ]);
    await runner.run('openssl', [
      'x509',
      '-req',
      '-in',
      p(`${who}.csr`),
      '-CA',
      p('ca.crt'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-out',
      p(`${who}.crt`),
      '-days',
      '2',
      '-extfile',
      p(`${who}.ext`),
    ]);
  }
  const r = (f: string): string => readFileSync(p(f), 'utf8').trim();
  return {
    ca: r('ca.crt'),
    serverCert: r('server.crt'),
    serverKey: r('server.key'),
    clientCert: r('client.crt'),
    clientKey: r('client.key'),
  };
}

export interface OpenvpnWorldOptions extends WorldOptions {
  proto?: 'udp' | 'tcp';
  /** Push redirect-gateway to clients (default true); false = a server that routes nothing. */
  pushRedirect?: boolean;
}

export async function createOpenvpnWorld(o: OpenvpnWorldOptions): Promise<OpenvpnWorld> {
  const idx = o.subnetIndex;
  const hex = idx.toString(16);
  const tunNet = `10.239.${idx}.`;
  const base = await createBaseWorld({ ...o, routeBack: true }, 'o', [tunNet]);
  const runner = base.runner;
  const tunIf = `${o.prefix}${idx}ot`;
  const tunnelIp = `${tunNet}1`;
  const tunnelIp6 = `fd39:${hex}::1`;
  const username = 'vopono';
  const password = `pw-${Math.random().toString(36).slice(2, 10)}`;
  const proto = o.proto ?? 'udp';
  try {
    if (tunIf.length > 15) throw new Error(`interface name ${tunIf} is too long`);
    const pki = await makePki(runner, base.tempDir);
    const verify = join(base.tempDir, 'verify.sh');
    writeFileSync(
      verify,
      `#!/bin/sh\n# $1: a file with the username and the password, one a line\n{ read -r u; read -r p; } < "$1"\n[ "$u" = '${username}' ] && [ "$p" = '${password}' ]\n`,
    );
    chmodSync(verify, 0o700);
    const serverConf = join(base.tempDir, 'server.conf');
    writeFileSync(
      serverConf,
      [
        `dev ${tunIf}`,
        'dev-type tun',
        `proto ${proto === 'udp' ? 'udp4' : 'tcp4-server'}`,
        `local ${base.peerIp}`,
        `port ${OPENVPN_PORT}`,
        'topology subnet',
        `server ${tunNet}0 255.255.255.0`,
        `server-ipv6 fd39:${hex}::/64`,
        'dh none',
        'keepalive 2 10',
        ...(o.pushRedirect === false ? [] : ['push "redirect-gateway def1 ipv6"']),
        `push "dhcp-option DNS ${tunnelIp}"`,
        'script-security 2',
        `auth-user-pass-verify ${verify} via-file`,
        `tmp-dir ${base.tempDir}`,
        'verify-client-cert require',
        'verb 3',
        `<ca>\n${pki.ca}\n</ca>`,
        `<cert>\n${pki.serverCert}\n</cert>`,
        `<key>\n${pki.serverKey}\n</key>`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const { log: serverLog, pid: serverPid } = await startInWorld(base, 'openvpn-server', 'openvpn', [
      '--config',
      serverConf,
    ]);
    await waitForLog(serverLog, 'Initialization Sequence Completed', 15_000, serverPid);
    await startHttpServer(base, [tunnelIp, tunnelIp6], HTTP_PORT);
    const dns = await startDnsmasq(base, [tunnelIp, tunnelIp6], tunnelIp, tunnelIp6);
    const clientConfig = [
      'client',
      'dev tun',
      `proto ${proto}`,
      `remote ${base.peerIp} ${OPENVPN_PORT}`,
      'nobind',
      'remote-cert-tls server',
      'auth-user-pass',
      'verb 3',
      `<ca>\n${pki.ca}\n</ca>`,
      `<cert>\n${pki.clientCert}\n</cert>`,
      `<key>\n${pki.clientKey}\n</key>`,
      '',
    ].join('\n');
    return {
      nsName: base.nsName,
      hostVeth: base.hostVeth,
      hostIp: base.hostIp,
      peerIp: base.peerIp,
      tunnelIp,
      tunnelIp6,
      httpPort: HTTP_PORT,
      domain: TEST_DOMAIN,
      username,
      password,
      clientConfig,
      serverPid,
      serverLog,
      dns,
      base,
      destroy: () => destroyBaseWorld(base),
    };
  } catch (e) {
    await destroyBaseWorld(base).catch(() => undefined);
    throw e;
  }
}

/**
 * Lets a client namespace behind `clientHostVeth` reach the world's server through the host, and
 * nothing else: IPv4 forwarding is switched on for these two host interfaces only, and a host
 * nft table (named with the prefix) drops anything forwarded from them to any other interface,
 * so no test packet is ever routed toward the host's real uplink. Returns the undo.
 */
export async function connectThroughHost(
  runner: CommandRunner,
  prefix: string,
  clientHostVeth: string,
  worldHostVeth: string,
): Promise<() => Promise<void>> {
  const table = `${prefix}_guard`;
  const ifs = `{ "${clientHostVeth}", "${worldHostVeth}" }`;
  const undo = async (): Promise<void> => {
    for (const i of [clientHostVeth, worldHostVeth]) {
      await runner.run('sysctl', ['-q', '-w', `net.ipv4.conf.${i}.forwarding=0`]).catch(() => undefined);
    }
    await runner.run('nft', ['delete', 'table', 'inet', table]).catch(() => undefined);
  };
  try {
    await runner.run('nft', ['-f', '-'], {
      input: [
        `table inet ${table} {`,
        '  chain forward {',
        '    type filter hook forward priority filter - 10; policy accept;',
        `    iifname ${ifs} oifname ${ifs} accept`,
        `    iifname ${ifs} drop`,
        `    oifname ${ifs} drop`,
        '  }',
        '}',
        '',
      ].join('\n'),
    });
    for (const i of [clientHostVeth, worldHostVeth]) {
      await runner.run('sysctl', ['-q', '-w', `net.ipv4.conf.${i}.forwarding=1`]);
    }
  } catch (e) {
    await undo();
    throw e;
  }
  return undo;
}

/**
 * A host nft table that keeps a world's traffic between the world and `peers` (an interface
 * name or an nft wildcard such as "vo*"): whatever else would be forwarded from or to the world's
 * host veth is dropped, so no test packet is routed toward the host's real uplink, whoever turned
 * forwarding on. Returns the undo.
 */
export async function guardWorld(
  runner: CommandRunner,
  table: string,
  worldHostVeth: string,
  peers: string,
): Promise<() => Promise<void>> {
  if (
    !/^[A-Za-z0-9_]{1,32}$/.test(table) ||
    !/^[A-Za-z0-9_.*-]{1,16}$/.test(peers) ||
    !/^[A-Za-z0-9_.-]{1,15}$/.test(worldHostVeth)
  ) {
    throw new Error('guardWorld: bad name');
  }
  await runner.run('nft', ['-f', '-'], {
    input: [
      `table inet ${table} {`,
      '  chain forward {',
      '    type filter hook forward priority filter - 10; policy accept;',
      `    iifname "${worldHostVeth}" oifname != "${peers}" drop`,
      `    oifname "${worldHostVeth}" iifname != "${peers}" drop`,
      '  }',
      '}',
      '',
    ].join('\n'),
  });
  return async () => {
    await runner.run('nft', ['delete', 'table', 'inet', table]).catch(() => undefined);
  };
}
