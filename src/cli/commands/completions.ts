// `vopono completions <shell>`: prints a completion script for bash, zsh or fish, generated from
// the real command tree (every subcommand module registered on a scratch program), so the
// completions always match the options this build accepts. completions/ holds the same scripts
// generated at release time (completions/generate.sh) for packagers.
import { Argument, Command, Option } from 'commander';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** The subcommand modules, as src/cli/main.ts lists them. */
const MODULES: Record<string, () => Promise<{ register: (program: Command) => void }>> = {
  exec: () => import('./exec.js'),
  list: () => import('./list.js'),
  stop: () => import('./stop.js'),
  servers: () => import('./servers.js'),
  sync: () => import('./sync.js'),
  daemon: () => import('./daemon.js'),
  doctor: () => import('./doctor.js'),
  tui: () => import('./tui.js'),
  demo: () => import('./demo.js'),
  completions: () => Promise.resolve({ register }),
};

export function register(program: Command): void {
  program
    .command('completions')
    .description('Print a shell completion script (bash, zsh or fish)')
    .addOption(new Option('--output <file>', 'write to FILE instead of standard output'))
    .addArgument(new Argument('<shell>', 'the shell to complete for').choices(SHELLS))
    .addHelpText(
      'after',
      '\nInstall, for example:\n' +
        '  vopono completions bash > /etc/bash_completion.d/vopono\n' +
        '  vopono completions zsh  > "${fpath[1]}/_vopono"\n' +
        '  vopono completions fish > ~/.config/fish/completions/vopono.fish',
    )
    .action(async (shell: string, opts: { output?: string }) => {
      (await import('../../doctor/epipe.js')).exitQuietlyOnEpipe();
      if (!isShell(shell)) {
        process.stderr.write(`vopono: unknown shell '${shell}' (choose ${SHELLS.join(', ')})\n`);
        process.exit(2);
      }
      const script = completionScript(shell, describe(await fullProgram(), await knownValues()));
      if (opts.output !== undefined) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(opts.output, script);
      } else process.stdout.write(script);
    });
}

/** Provider names from the catalogue (none and custom included), the protocols vopono runs. */
export async function knownValues(): Promise<KnownValues> {
  const { PROVIDERS } = await import('../../providers/registry.js');
  return {
    providers: [...new Set(PROVIDERS.map((p) => p.name))],
    protocols: ['wireguard', 'openvpn'],
  };
}

function isShell(s: string): s is Shell {
  return (SHELLS as readonly string[]).includes(s);
}

/** A program with every subcommand registered (main.ts registers only the one being run). */
export async function fullProgram(): Promise<Command> {
  const program = new Command('vopono').enablePositionalOptions(); // as main.ts
  for (const load of Object.values(MODULES)) (await load()).register(program);
  return program;
}

// ---------------------------------------------------------------------------------------------
// A shell-neutral description of the command tree.

export interface OptSpec {
  short?: string;
  long?: string;
  description: string;
  /** 'none' for flags; 'file'/'dir' for paths; 'choice' with choices; else 'value'. */
  value: 'none' | 'value' | 'file' | 'dir' | 'choice';
  choices?: string[];
}

export interface CmdSpec {
  name: string;
  aliases: string[];
  description: string;
  options: OptSpec[];
  /** The command takes a program to run and its arguments (exec). */
  runsCommand: boolean;
  /** Choices of its first positional argument, if fixed (e.g. completions' shell). */
  argChoices?: string[];
  /** The first positional argument is a file (e.g. --custom-like configs). */
  argIsFile: boolean;
}

export interface TreeSpec {
  global: OptSpec[];
  commands: CmdSpec[];
}

const HELP: OptSpec = { short: '-h', long: '--help', description: 'display help', value: 'none' };

/** Values known without asking anyone: provider names (the catalogue) and protocols. */
export interface KnownValues {
  providers: string[];
  protocols: string[];
}

function optSpec(o: Option, known: KnownValues): OptSpec {
  const takes = o.required || o.optional;
  const name = (o.long ?? o.short ?? '').replace(/^-+/, '');
  let value: OptSpec['value'] = 'none';
  let choices = o.argChoices ? [...o.argChoices] : [];
  if (takes && choices.length === 0 && name === 'provider') choices = known.providers;
  if (takes && choices.length === 0 && name === 'protocol') choices = known.protocols;
  if (takes) {
    if (choices.length > 0) value = 'choice';
    else if (/(^|-)(dir|directory|state-dir)$/.test(name)) value = 'dir';
    else if (/(custom|config|file|socket|path|output|conf)/.test(name)) value = 'file';
    else value = 'value';
  }
  const spec: OptSpec = { description: firstLine(o.description), value };
  if (o.short) spec.short = o.short;
  if (o.long) spec.long = o.long;
  if (value === 'choice') spec.choices = choices;
  return spec;
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? '').trim();
}

export function describe(program: Command, known: KnownValues = { providers: [], protocols: [] }): TreeSpec {
  const commands: CmdSpec[] = program.commands.map((c) => {
    const args = c.registeredArguments;
    const first = args[0];
    const spec: CmdSpec = {
      name: c.name(),
      aliases: [...c.aliases()],
      description: firstLine(c.description()),
      options: [...c.options.filter((o) => !o.hidden).map((o) => optSpec(o, known)), HELP],
      runsCommand: c.name() === 'exec',
      argIsFile: first !== undefined && /(file|config|path)/i.test(first.name()),
    };
    if (first?.argChoices && first.argChoices.length > 0) spec.argChoices = [...first.argChoices];
    else if (c.name() === 'completions') spec.argChoices = [...SHELLS];
    // sync/servers take a real provider, not the pseudo-providers
    else if (first?.name() === 'provider' && known.providers.length > 0)
      spec.argChoices = known.providers.filter((p) => p !== 'none' && p !== 'custom');
    return spec;
  });
  const global: OptSpec[] = [
    { short: '-V', long: '--version', description: 'output the version number', value: 'none' },
    HELP,
  ];
  return { global, commands };
}

export function completionScript(shell: Shell, tree: TreeSpec): string {
  switch (shell) {
    case 'bash':
      return bashScript(tree);
    case 'zsh':
      return zshScript(tree);
    case 'fish':
      return fishScript(tree);
  }
}

const HEADER = '# vopono shell completion, generated by `vopono completions`. Do not edit.\n';
const flagsOf = (o: OptSpec): string[] => [o.short, o.long].filter((f): f is string => f !== undefined);
const ident = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, '_');

// ---------------------------------------------------------------------------------------------
// bash

function bashScript(tree: TreeSpec): string {
  const names = tree.commands.flatMap((c) => [c.name, ...c.aliases]);
  const lines: string[] = [HEADER, '# shellcheck shell=bash'];
  lines.push(`_vopono_commands='${names.join(' ')}'`);
  lines.push(`_vopono_global='${tree.global.flatMap(flagsOf).join(' ')}'`);
  for (const c of tree.commands) {
    for (const n of [c.name, ...c.aliases]) {
      const id = ident(n);
      lines.push(`_vopono_opts_${id}='${c.options.flatMap(flagsOf).join(' ')}'`);
      lines.push(
        `_vopono_file_${id}=' ${c.options
          .filter((o) => o.value === 'file')
          .flatMap(flagsOf)
          .join(' ')} '`,
      );
      lines.push(
        `_vopono_dir_${id}=' ${c.options
          .filter((o) => o.value === 'dir')
          .flatMap(flagsOf)
          .join(' ')} '`,
      );
      lines.push(
        `_vopono_val_${id}=' ${c.options
          .filter((o) => o.value === 'value' || o.value === 'choice')
          .flatMap(flagsOf)
          .join(' ')} '`,
      );
      for (const o of c.options.filter((o) => o.value === 'choice')) {
        for (const f of flagsOf(o))
          lines.push(`_vopono_choice_${id}_${ident(f)}='${(o.choices ?? []).join(' ')}'`);
      }
      lines.push(`_vopono_runs_${id}=${c.runsCommand ? 1 : 0}`);
      lines.push(`_vopono_args_${id}='${(c.argChoices ?? []).join(' ')}'`);
      lines.push(`_vopono_argfile_${id}=${c.argIsFile ? 1 : 0}`);
    }
  }
  lines.push(`
_vopono() {
  local cur prev cword i sub= id= word positional=0
  local -a words
  cur=\${COMP_WORDS[COMP_CWORD]}
  prev=\${COMP_WORDS[COMP_CWORD-1]}
  words=("\${COMP_WORDS[@]}")
  cword=$COMP_CWORD
  COMPREPLY=()

  # the subcommand: the first word that is not an option
  for ((i = 1; i < cword; i++)); do
    case \${words[i]} in
      -*) ;;
      *) sub=\${words[i]}; break ;;
    esac
  done
  if [[ -z $sub ]]; then
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$_vopono_global" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$_vopono_commands" -- "$cur")
    fi
    return 0
  fi
  id=\${sub//[^A-Za-z0-9_]/_}
  local opts_var=_vopono_opts_$id file_var=_vopono_file_$id dir_var=_vopono_dir_$id
  local val_var=_vopono_val_$id runs_var=_vopono_runs_$id args_var=_vopono_args_$id argfile_var=_vopono_argfile_$id
  [[ -n \${!opts_var+x} ]] || return 0

  # walk the words after the subcommand: skip option values, count positionals; for a command
  # runner (exec), the first positional is the program and the rest belongs to it
  for ((i = i + 1; i < cword; i++)); do
    word=\${words[i]}
    if [[ $word == -- ]]; then positional=1; i=$((i + 1)); break; fi
    if [[ $word == -* ]]; then
      [[ $word == *=* ]] && continue
      if [[ \${!file_var} == *" $word "* || \${!dir_var} == *" $word "* || \${!val_var} == *" $word "* ]]; then
        i=$((i + 1))
      fi
      continue
    fi
    positional=$((positional + 1))
    [[ \${!runs_var} == 1 ]] && break
  done
  if [[ \${!runs_var} == 1 && $positional -ge 1 ]]; then
    # complete the program's own arguments with its completion, when bash-completion is there
    if declare -F _command_offset >/dev/null; then
      _command_offset "$i"
    else
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
    return 0
  fi

  # value of an option
  if [[ \${!file_var} == *" $prev "* ]]; then
    mapfile -t COMPREPLY < <(compgen -f -- "$cur"); compopt -o filenames 2>/dev/null; return 0
  fi
  if [[ \${!dir_var} == *" $prev "* ]]; then
    mapfile -t COMPREPLY < <(compgen -d -- "$cur"); compopt -o filenames 2>/dev/null; return 0
  fi
  if [[ \${!val_var} == *" $prev "* ]]; then
    local choice_var=_vopono_choice_\${id}_\${prev//[^A-Za-z0-9_]/_}
    [[ -n \${!choice_var+x} ]] && mapfile -t COMPREPLY < <(compgen -W "\${!choice_var}" -- "$cur")
    return 0
  fi

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "\${!opts_var}" -- "$cur")
  elif [[ \${!runs_var} == 1 ]]; then
    mapfile -t COMPREPLY < <(compgen -c -- "$cur")
  elif [[ -n \${!args_var} && $positional == 0 ]]; then
    mapfile -t COMPREPLY < <(compgen -W "\${!args_var}" -- "$cur")
  elif [[ \${!argfile_var} == 1 ]]; then
    mapfile -t COMPREPLY < <(compgen -f -- "$cur"); compopt -o filenames 2>/dev/null
  fi
  return 0
}
complete -F _vopono vopono
`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// zsh

function zq(s: string): string {
  // inside '...' of an _arguments spec: escape brackets and colons, close/reopen for quotes
  return s
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "'\\''")
    .replace(/[[\]:]/g, (m) => `\\${m}`);
}

function zshOption(o: OptSpec): string[] {
  const action =
    o.value === 'none'
      ? ''
      : o.value === 'file'
        ? ':file:_files'
        : o.value === 'dir'
          ? ':directory:_files -/'
          : o.value === 'choice'
            ? `:value:(${(o.choices ?? []).map(zq).join(' ')})`
            : ':value: ';
  const flags = flagsOf(o);
  const desc = zq(o.description);
  if (flags.length === 2) {
    const excl = `(${flags.join(' ')})`;
    return flags.map((f) => `'${excl}${f}[${desc}]${action}'`);
  }
  return flags.map((f) => `'${f}[${desc}]${action}'`);
}

function zshScript(tree: TreeSpec): string {
  const out: string[] = ['#compdef vopono', HEADER];
  for (const c of tree.commands) {
    const specs = c.options.flatMap(zshOption);
    if (c.runsCommand) specs.push("'1:command:_command_names -e'", "'*::arguments:_normal'");
    else if (c.argChoices) specs.push(`'1:${zq(c.name)} argument:(${c.argChoices.map(zq).join(' ')})'`);
    else if (c.argIsFile) specs.push("'1:file:_files'");
    out.push(
      `_vopono_cmd_${ident(c.name)}() {`,
      `  _arguments -s -S \\`,
      ...specs.map((s) => `    ${s} \\`),
      '    && return 0',
      '}',
      '',
    );
  }
  const described = tree.commands.flatMap((c) =>
    [c.name, ...c.aliases].map((n) => `    '${zq(n)}:${zq(c.description)}'`),
  );
  const cases = tree.commands.map(
    (c) =>
      `    (${[c.name, ...c.aliases].map((n) => n.replace(/[^A-Za-z0-9_-]/g, '')).join('|')}) _vopono_cmd_${ident(c.name)} ;;`,
  );
  out.push(
    '_vopono() {',
    '  local curcontext="$curcontext" state line',
    '  typeset -A opt_args',
    '  local -a commands',
    '  commands=(',
    ...described,
    '  )',
    '  _arguments -C \\',
    ...tree.global.flatMap(zshOption).map((s) => `    ${s} \\`),
    "    '1:command:->command' \\",
    "    '*::arg:->args' && return 0",
    '  case $state in',
    '  (command) _describe -t commands "vopono command" commands ;;',
    '  (args)',
    '    case $words[1] in',
    ...cases,
    '    esac',
    '    ;;',
    '  esac',
    '}',
    '',
    'if [[ $zsh_eval_context[-1] == loadautofunc ]]; then',
    '  _vopono "$@"',
    'else',
    '  compdef _vopono vopono',
    'fi',
    '',
  );
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// fish

function fq(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fishOption(cond: string, o: OptSpec): string {
  const parts = ['complete -c vopono', `-n ${fq(cond)}`];
  if (o.short) parts.push(`-s ${o.short.replace(/^-/, '')}`);
  if (o.long) parts.push(`-l ${o.long.replace(/^--/, '')}`);
  if (o.value === 'file') parts.push('-r -F');
  else if (o.value === 'dir') parts.push(`-r -f -a ${fq('(__fish_complete_directories)')}`);
  else if (o.value === 'choice') parts.push(`-x -a ${fq((o.choices ?? []).join(' '))}`);
  else if (o.value === 'value') parts.push('-x');
  parts.push(`-d ${fq(o.description)}`);
  return parts.join(' ');
}

function fishScript(tree: TreeSpec): string {
  const all = tree.commands.flatMap((c) => [c.name, ...c.aliases]);
  const out: string[] = [HEADER, 'complete -c vopono -f'];
  const top = `not __fish_seen_subcommand_from ${all.join(' ')}`;
  for (const o of tree.global) out.push(fishOption(top, o));
  for (const c of tree.commands) {
    for (const n of [c.name, ...c.aliases])
      out.push(`complete -c vopono -n ${fq(top)} -a ${n} -d ${fq(c.description)}`);
  }
  for (const c of tree.commands) {
    const cond = `__fish_seen_subcommand_from ${[c.name, ...c.aliases].join(' ')}`;
    for (const o of c.options) out.push(fishOption(cond, o));
    if (c.runsCommand)
      out.push(`complete -c vopono -n ${fq(cond)} -x -a ${fq('(__fish_complete_subcommand --fcs-skip=2)')}`);
    else if (c.argChoices) out.push(`complete -c vopono -n ${fq(cond)} -x -a ${fq(c.argChoices.join(' '))}`);
    else if (c.argIsFile) out.push(`complete -c vopono -n ${fq(cond)} -F`);
  }
  return out.join('\n') + '\n';
}
