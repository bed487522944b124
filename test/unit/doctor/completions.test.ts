// Shell completions: generated from a commander tree, parsed by each shell, and (bash, fish)
// asked for real completions of typical command lines.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Argument, Command, Option } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import {
  completionScript,
  describe as describeTree,
  fullProgram,
  knownValues,
} from '../../../src/cli/commands/completions.js';

const dir = mkdtempSync(join(tmpdir(), 'vopono-compl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const have = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

/** A program shaped like vopono's: exec with value/file/choice options and a command to run. */
function sample(): Command {
  const p = new Command('vopono');
  p.command('exec')
    .description('run an application through a VPN')
    .option('-p, --provider <name>', 'VPN provider')
    .option('-s, --server <prefix>', 'server prefix')
    .option('--custom <file>', 'custom config file')
    .addOption(new Option('-c, --protocol <proto>', 'protocol').choices(['wireguard', 'openvpn']))
    .option('-k, --keep-alive', 'keep the namespace')
    .argument('<command...>');
  p.command('list').description('list namespaces').option('--json', 'JSON output');
  p.command('daemon')
    .description("run the root daemon (it's root)")
    .option('--state-dir <dir>', 'state [dir]');
  p.command('completions')
    .description('print completions')
    .addArgument(new Argument('<shell>').choices(['bash', 'zsh', 'fish']));
  return p;
}

function bashComplete(script: string, line: string): string[] {
  const file = join(dir, 'vopono.bash');
  writeFileSync(file, script);
  const words = line.split(' ');
  const driver = `
    source ${JSON.stringify(file)}
    COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})
    COMP_CWORD=${words.length - 1}
    _vopono
    printf '%s\\n' "\${COMPREPLY[@]}"
  `;
  const r = spawnSync('bash', ['--norc', '-c', driver], { encoding: 'utf8', cwd: dir });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('completions', () => {
  const tree = describeTree(sample());

  it('describes the tree: value kinds, choices, the command runner', () => {
    const exec = tree.commands.find((c) => c.name === 'exec')!;
    expect(exec.runsCommand).toBe(true);
    const kinds = Object.fromEntries(exec.options.map((o) => [o.long, o.value]));
    expect(kinds).toMatchObject({
      '--provider': 'value',
      '--custom': 'file',
      '--protocol': 'choice',
      '--keep-alive': 'none',
    });
    expect(tree.commands.find((c) => c.name === 'daemon')!.options[0]!.value).toBe('dir');
    expect(tree.commands.find((c) => c.name === 'completions')!.argChoices).toEqual(['bash', 'zsh', 'fish']);
  });

  it('bash: subcommands, options, choices, files, and the program after exec', () => {
    const script = completionScript('bash', tree);
    expect(bashComplete(script, 'vopono ')).toEqual(['completions', 'daemon', 'exec', 'list']);
    expect(bashComplete(script, 'vopono e')).toEqual(['exec']);
    expect(bashComplete(script, 'vopono exec --pr')).toEqual(['--protocol', '--provider']);
    expect(bashComplete(script, 'vopono exec --protocol ')).toEqual(['openvpn', 'wireguard']);
    expect(bashComplete(script, 'vopono exec --provider ')).toEqual([]);
    writeFileSync(join(dir, 'mullvad-se.conf'), '');
    expect(bashComplete(script, 'vopono exec --custom mullvad')).toEqual(['mullvad-se.conf']);
    // after options and their values, the first word is a program on PATH
    expect(bashComplete(script, 'vopono exec -p mullvad -k bas')).toContain('bash');
    expect(bashComplete(script, 'vopono completions ')).toEqual(['bash', 'fish', 'zsh']);
    expect(bashComplete(script, 'vopono list --')).toEqual(['--help', '--json']);
  });

  it.skipIf(!have('zsh'))('zsh: the script parses', () => {
    const file = join(dir, '_vopono');
    writeFileSync(file, completionScript('zsh', tree));
    const r = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!have('fish'))('fish: the script parses and completes', () => {
    const file = join(dir, 'vopono.fish');
    writeFileSync(file, completionScript('fish', tree));
    const run = (line: string): string[] => {
      const r = spawnSync(
        'fish',
        ['--no-config', '-c', `source ${file}; complete -C ${JSON.stringify(line)}`],
        {
          encoding: 'utf8',
          env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir },
        },
      );
      expect(r.stderr).toBe('');
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]!)
        .sort();
    };
    expect(run('vopono ')).toEqual(expect.arrayContaining(['exec', 'list', 'daemon', 'completions']));
    expect(run('vopono exec --pro')).toEqual(['--protocol', '--provider']);
    expect(run('vopono exec --protocol ')).toEqual(['openvpn', 'wireguard']);
  });

  it('bash: provider names and protocols from the catalogue, for exec -p and sync/servers', async () => {
    const script = completionScript('bash', describeTree(await fullProgram(), await knownValues()));
    expect(bashComplete(script, 'vopono exec -p mu')).toEqual(['mullvad']);
    expect(bashComplete(script, 'vopono exec --provider c')).toEqual(['custom']);
    expect(bashComplete(script, 'vopono exec -c w')).toEqual(['wireguard']);
    expect(bashComplete(script, 'vopono sync m')).toEqual(['mozillavpn', 'mullvad']);
    expect(bashComplete(script, 'vopono sync n')).toEqual(['nordvpn']); // not the pseudo-provider none
  });

  it("the real program: every subcommand appears in each shell's script", async () => {
    const real = describeTree(await fullProgram());
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const script = completionScript(shell, real);
      for (const c of real.commands) expect(script, `${shell}: ${c.name}`).toContain(c.name);
    }
    expect(real.commands.map((c) => c.name)).toEqual(
      expect.arrayContaining(['exec', 'list', 'daemon', 'doctor', 'demo', 'completions']),
    );
  });
});
