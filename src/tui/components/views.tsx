// The screens. Each renders exactly its share of the frame (a header row and `height` rows), so the
// frame height never changes and Ink only rewrites the lines that changed.
import { Box, Text } from 'ink';
import { memo, useEffect, useState } from 'react';
import type { NamespaceInfo } from '../../protocol/messages.js';
import type { ProviderSummary, ServerRow } from '../catalogue.js';
import { fit, formatDuration, windowStart } from '../format.js';
import { formFields, namespaceRows, type FormState, type LaunchTarget } from '../store.js';

interface RowProps {
  text: string;
  selected: boolean;
  dim?: boolean;
  bold?: boolean;
  color?: string;
}

/** One list row, padded to the full width so the selection bar is a steady full line. */
export const Row = memo(function Row({ text, selected, dim, bold, color }: RowProps) {
  return (
    <Text
      inverse={selected}
      dimColor={!selected && dim === true}
      bold={bold}
      color={selected ? undefined : color}
      wrap="truncate"
    >
      {text}
    </Text>
  );
});

function Filler({ count }: { count: number }) {
  if (count <= 0) return null;
  return <Text>{'\n'.repeat(count - 1)}</Text>;
}

export function Header({ text }: { text: string }) {
  return (
    <Text bold wrap="truncate">
      {text}
    </Text>
  );
}

// ---- providers ----

export const ProvidersView = memo(function ProvidersView(props: {
  providers: ProviderSummary[];
  selected: number;
  width: number;
  height: number;
}) {
  const { providers, selected, width, height } = props;
  const start = windowStart(selected, providers.length, height);
  const visible = providers.slice(start, start + height);
  const nameW = 16;
  const protoW = 26;
  const countW = 8;
  return (
    <Box flexDirection="column" height={height + 1}>
      <Header
        text={fit(
          `  ${'provider'.padEnd(nameW)} ${'protocols'.padEnd(protoW)} ${'servers'.padStart(countW - 1)}  state`,
          width,
        )}
      />
      {visible.map((p, i) => {
        const idx = start + i;
        const state = p.note ?? (p.synced ? 'synced' : `not synced: vopono sync ${p.name}`);
        const count = p.note !== undefined ? '-' : String(p.serverCount);
        const line = `${idx === selected ? '>' : ' '} ${fit(p.name, nameW)} ${fit(p.protocols.join(', '), protoW)} ${count.padStart(countW - 1)}  ${state}`;
        return <Row key={i} text={fit(line, width)} selected={idx === selected} dim={!p.synced} />;
      })}
      <Filler count={height - visible.length} />
    </Box>
  );
});

// ---- servers ----

export const ServersView = memo(function ServersView(props: {
  provider: string;
  servers: ServerRow[];
  matches: number[];
  selected: number;
  filter: string;
  filtering: boolean;
  width: number;
  height: number;
}) {
  const { servers, matches, selected, filter, filtering, width, height } = props;
  const start = windowStart(selected, matches.length, height);
  const rows: ServerRow[] = [];
  for (let i = start; i < Math.min(matches.length, start + height); i++) {
    const s = servers[matches[i]!];
    if (s) rows.push(s);
  }
  const nameW = Math.max(14, Math.min(28, Math.floor(width * 0.3)));
  const protoW = 10;
  const countryW = 14;
  const cityW = 14;
  const filterText = filtering ? `/${filter}_` : filter !== '' ? `/${filter}` : '/ to filter';
  const head = `${props.provider}: ${matches.length} of ${servers.length}   ${filterText}`;
  return (
    <Box flexDirection="column" height={height + 1}>
      <Header text={fit(head, width)} />
      {rows.length === 0 ? (
        <Text dimColor>
          {fit(
            filter !== '' ? `  no server matches "${filter}" (Esc clears the filter)` : '  no servers',
            width,
          )}
        </Text>
      ) : (
        rows.map((s, i) => {
          const idx = start + i;
          const line = `${idx === selected ? '>' : ' '} ${fit(s.name, nameW)} ${fit(s.protocol, protoW)} ${fit(s.country ?? '', countryW)} ${fit(s.city ?? '', cityW)} ${s.host ?? ''}`;
          // keyed by screen row: a new filter result updates the rows' text in place (no node churn)
          return <Row key={i} text={fit(line, width)} selected={idx === selected} />;
        })
      )}
      <Filler count={height - Math.max(1, rows.length)} />
    </Box>
  );
});

// ---- launch form ----

function targetText(t: LaunchTarget | undefined): string {
  if (!t) return 'no target';
  if (t.provider === 'none') return 'none (a namespace without a VPN)';
  if (t.provider === 'custom') return 'custom (your own config file)';
  if (!t.server) return t.provider;
  return `${t.provider} / ${t.server.name} (${t.server.protocol})`;
}

export const LaunchView = memo(function LaunchView(props: {
  target: LaunchTarget | undefined;
  form: FormState;
  recent: string[];
  width: number;
  height: number;
}) {
  const { form, recent, width, height } = props;
  const labels: Record<ReturnType<typeof formFields>[number], string> = {
    command: 'Command',
    config: 'Config file',
    killswitch: 'Killswitch',
    dns: 'DNS',
    keepAlive: 'Keep alive',
    forward: 'Forward ports',
    launch: '',
  };
  const notes: Record<ReturnType<typeof formFields>[number], string> = {
    command: 'Enter runs it; the app gets the whole terminal',
    config: 'a WireGuard or OpenVPN config file',
    killswitch: 'block traffic outside the tunnel',
    dns: "empty: the VPN's DNS",
    keepAlive: 'keep the namespace when the app exits',
    forward: 'host ports forwarded into the namespace',
    launch: '',
  };
  const lines: { key: string; text: string; selected: boolean; dim?: boolean }[] = [];
  for (const f of formFields(props.target)) {
    const focused = form.focus === f;
    let value: string;
    if (f === 'launch') {
      lines.push({ key: f, text: fit(`${focused ? '>' : ' '} [ Launch ]`, width), selected: focused });
      continue;
    }
    if (f === 'killswitch' || f === 'keepAlive') value = form[f] ? '[x] on ' : '[ ] off';
    else value = form[f] + (focused ? '_' : '');
    const fieldW = Math.max(10, width - 16 - 2);
    const body =
      f === 'killswitch' || f === 'keepAlive' ? `${value}   ${notes[f]}` : value === '' ? notes[f] : value;
    lines.push({
      key: f,
      text: fit(`${focused ? '>' : ' '} ${labels[f].padEnd(14)} ${fit(body, fieldW)}`, width),
      selected: focused,
      dim: value === '' && !focused,
    });
  }
  lines.push({ key: 'gap', text: '', selected: false });
  if (recent.length > 0)
    lines.push({
      key: 'rh',
      text: '  recent commands (Enter puts one in the form):',
      selected: false,
      dim: true,
    });
  recent.forEach((c, i) => {
    const focused = form.focus === `recent:${i}`;
    lines.push({ key: `r${i}`, text: fit(`${focused ? '>' : ' '}   ${c}`, width), selected: focused });
  });
  const visible = lines.slice(0, height);
  return (
    <Box flexDirection="column" height={height + 1}>
      <Header text={fit(`Launch in ${targetText(props.target)}`, width)} />
      {visible.map((l) => (
        <Row key={l.key} text={l.text} selected={l.selected} dim={l.dim} />
      ))}
      <Filler count={height - visible.length} />
    </Box>
  );
});

// ---- namespaces ----

function useNow(intervalMs: number, now: () => number): number {
  const [t, setT] = useState(now);
  useEffect(() => {
    const timer = setInterval(() => setT(now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, now]);
  return t;
}

function tunnelText(ns: NamespaceInfo, now: number): string {
  const t = ns.tunnel;
  if (!t) return ns.protocol;
  const parts = [t.kind];
  if (t.lastHandshake !== undefined) parts.push(`handshake ${formatDuration(now - t.lastHandshake)} ago`);
  if (t.endpoint) parts.push(t.endpoint);
  return parts.join(', ');
}

export const NamespacesView = memo(function NamespacesView(props: {
  namespaces: NamespaceInfo[];
  selected: number;
  uid: number;
  daemonUp: boolean;
  width: number;
  height: number;
  now: () => number;
}) {
  const { namespaces, selected, uid, width, height } = props;
  const now = useNow(1000, props.now);
  const rows = namespaceRows(namespaces);
  const start = windowStart(selected, rows.length, height);
  const visible = rows.slice(start, start + height);
  let empty = '';
  if (!props.daemonUp) empty = '  the daemon is not running: active namespaces are shown only through it';
  else if (rows.length === 0) empty = '  no active namespaces: pick a provider and launch an app';
  return (
    <Box flexDirection="column" height={height + 1}>
      <Header text={fit(`Active namespaces: ${namespaces.length}`, width)} />
      {empty !== '' ? (
        <Text dimColor>{fit(empty, width)}</Text>
      ) : (
        visible.map((r, i) => {
          const idx = start + i;
          const mark = idx === selected ? '>' : ' ';
          if (r.kind === 'ns') {
            const ns = r.ns;
            const where = ns.server !== undefined ? `${ns.provider}/${ns.server}` : ns.provider;
            const owner = ns.owner === uid ? '' : `  uid ${ns.owner}`;
            const keep = ns.keepAlive ? '  keep-alive' : '';
            const line = `${mark} ${ns.name}  ${where}  ${tunnelText(ns, now)}  up ${formatDuration(now - ns.createdAt)}${keep}${owner}`;
            return <Row key={`n:${ns.name}`} text={fit(line, width)} selected={idx === selected} bold />;
          }
          const a = r.app;
          const line = `${mark}   ${String(a.pid).padStart(7)}  ${formatDuration(now - a.startedAt).padStart(8)}  ${a.command.join(' ')}`;
          return <Row key={`a:${r.ns.name}:${a.pid}`} text={fit(line, width)} selected={idx === selected} />;
        })
      )}
      <Filler count={height - (empty !== '' ? 1 : visible.length)} />
    </Box>
  );
});

// ---- help ----

const HELP: [string, string][] = [
  ['↑ ↓  j k', 'move'],
  ['PgUp PgDn  g G', 'page, first, last'],
  ['Enter  → l', 'choose: provider → servers → launch form'],
  ['Esc  ← h', 'back (in a filter: leave it; again: clear it)'],
  ['/', 'filter the servers as you type (words: all must match)'],
  ['Tab  1  2', 'browse / active namespaces'],
  ['s', 'stop the selected namespace or app (yours; asks y/n)'],
  ['r', 'read the configs again (after a vopono sync)'],
  ['Enter in the form', 'launch: the TUI steps aside until the app exits'],
  ['↑ ↓ Tab in the form', 'move between fields; Space toggles'],
  ['?', 'this help'],
  ['q  Ctrl-C', 'quit (running namespaces are kept)'],
];

export function HelpView({ width, height }: { width: number; height: number }) {
  const lines = HELP.slice(0, height);
  return (
    <Box flexDirection="column" height={height + 1}>
      <Header text={fit('Keys (Esc or ? closes)', width)} />
      {lines.map(([k, v]) => (
        <Text key={k} wrap="truncate">
          <Text bold>{`  ${k.padEnd(22)}`}</Text>
          <Text>{v}</Text>
        </Text>
      ))}
      <Filler count={height - lines.length} />
    </Box>
  );
}
