// The body of `vopono sync`: chooses provider and protocol (asked on a terminal), builds the
// prompter from flags/env, runs the sync.
import { createPrompter } from './prompt.js';
import { chooseProtocol, PROVIDERS, requireProvider } from './registry.js';
import { syncProvider } from './sync.js';

const FLAG_KEYS: Record<string, string> = {
  account: 'account',
  username: 'username',
  password: 'password',
  port: 'port',
  variant: 'variant',
  device: 'device',
  reuseDevice: 'reuse_device',
  privateKey: 'private_key',
  ip: 'ip',
  dnsChoice: 'dns_choice',
  apiKey: 'api_key',
  cookie: 'cookie',
  tier: 'tier',
  category: 'category',
  replaceKeys: 'replace_keys',
  token: 'token',
  deviceName: 'device_name',
  useIps: 'use_ips',
  onlyPortForwarding: 'only_port_forwarding',
};

export async function runSync(
  provider: string | undefined,
  opts: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (
    process.geteuid?.() === 0 &&
    env.SUDO_USER !== undefined &&
    env.SUDO_USER !== '' &&
    env.SUDO_USER !== 'root'
  ) {
    throw new Error(
      `run vopono sync as ${env.SUDO_USER}, without sudo: configs are written by the user who uses them (into ~/.config/vopono)`,
    );
  }
  const answers: Record<string, string | undefined> = {};
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const v = opts[flag];
    if (typeof v === 'string') answers[key] = v;
  }
  if (answers.api_key === undefined && env.AIRVPN_API_KEY !== undefined) answers.api_key = env.AIRVPN_API_KEY;
  const interactive =
    opts.nonInteractive !== true && process.stdin.isTTY === true && process.stderr.isTTY === true;
  const prompt = createPrompter({ answers, interactive, env });
  try {
    const syncable = PROVIDERS.filter((p) => p.load !== undefined);
    let name = provider;
    if (name === undefined) {
      if (!interactive)
        throw new Error(
          `which provider? e.g. vopono sync mullvad (one of: ${syncable.map((p) => p.name).join(', ')})`,
        );
      name = await prompt.choice(
        'provider',
        'Which VPN provider do you want to sync?',
        syncable.map((p) => ({ value: p.name, label: p.name })),
      );
    }
    const def = requireProvider(name);
    let protocol = typeof opts.protocol === 'string' ? chooseProtocol(def, opts.protocol) : undefined;
    if (protocol === undefined && def.protocols.length > 1) {
      protocol = await prompt.choice(
        'protocol',
        `Which protocol for ${def.name}?`,
        def.protocols.map((p) => ({ value: p, label: p })),
        def.defaultProtocol,
      );
    }
    await syncProvider(def.name, protocol, prompt, env);
  } finally {
    prompt.close();
  }
}
