// The whole frame: title bar, the current screen, the notice line, the key line and the status
// line. It renders the store and hands key presses to handleKey; nothing else.
import { Box, Text, useInput, useStdout } from 'ink';
import { useEffect } from 'react';
import { useStore } from 'zustand';
import { fit, wrapLines } from '../format.js';
import { handleInput } from '../keys.js';
import { listHeight, type DaemonState, type TuiState, type TuiStore } from '../store.js';
import { HelpView, LaunchView, NamespacesView, ProvidersView, ServersView } from './views.js';

export interface AppProps {
  store: TuiStore;
  uid: number;
  socketPath: string;
  now: () => number;
}

function Title({ s, width }: { s: TuiState; width: number }) {
  const tab = (label: string, on: boolean) => (on ? `[${label}]` : ` ${label} `);
  const browse = s.view !== 'namespaces';
  const crumbs =
    s.view === 'servers' || s.view === 'launch'
      ? ` > ${s.target?.provider === 'none' && s.view === 'launch' ? 'none' : (s.provider?.name ?? '')}${s.view === 'launch' ? ' > launch' : ''}`
      : '';
  const left = `vopono ${tab('1 Browse', browse)}${tab(`2 Namespaces (${s.namespaces.length})`, !browse)}${browse ? crumbs : ''}`;
  const right = '? help  q quit';
  const gap = Math.max(1, width - left.length - right.length);
  return (
    <Text bold wrap="truncate">
      {fit(left + ' '.repeat(gap) + right, width)}
    </Text>
  );
}

function keyHints(s: TuiState): string {
  if (s.help) return 'Esc close';
  if (s.stopPrompt) return 'y stop   any other key: cancel';
  switch (s.view) {
    case 'providers':
      return 'up/dn/jk move  Enter servers  Tab namespaces  ? help  q quit';
    case 'servers':
      return s.filtering
        ? 'type to filter  up/dn move  Enter choose  Esc done  Backspace erase'
        : 'up/dn/jk move  / filter  Enter choose  Esc back  Tab namespaces';
    case 'launch':
      return 'up/dn/Tab field  Space toggle  Enter launch  Esc back  ^C quit';
    case 'namespaces':
      return 'up/dn/jk move  s stop  Enter launch here  Tab browse  ? help';
  }
}

function daemonText(d: DaemonState, socketPath: string): { text: string; color?: string } {
  switch (d.state) {
    case 'connecting':
      return { text: `connecting to the daemon at ${socketPath}…` };
    case 'connected':
      return { text: `● daemon connected (${socketPath})`, color: 'green' };
    case 'absent':
      // e.g. "no vopono daemon at /run/vopono.sock", or no permission to use its socket
      return { text: `○ ${d.reason}: launches go through sudo`, color: 'magenta' };
    case 'lost':
      return { text: '✗ daemon connection lost: reconnecting…', color: 'red' };
    case 'error':
      return { text: `✗ daemon: ${d.message}${d.hint ? ` (${d.hint})` : ''}`, color: 'red' };
  }
}

/** The notice of the current view (up to 3 lines: an error and its hint are shown whole). */
function noticeLines(s: TuiState, width: number): { lines: string[]; color?: string } {
  if (s.stopPrompt) return { lines: [fit(`Stop ${s.stopPrompt.label}? y/n`, width)], color: 'red' };
  const n = s.notice;
  if (!n || n.view !== s.view || s.help) return { lines: [' '] };
  const mark = n.kind === 'error' ? '✗ ' : n.kind === 'ok' ? '✓ ' : '• ';
  const color = n.kind === 'error' ? 'red' : n.kind === 'ok' ? 'green' : undefined;
  const text = mark + n.text + (n.hint ? `  (${n.hint})` : '');
  return { lines: wrapLines(text, width, 3), color };
}

function NoticeLines({ lines, color }: { lines: string[]; color?: string }) {
  return (
    <Text bold color={color} wrap="truncate">
      {lines.join('\n')}
    </Text>
  );
}

export function App({ store, uid, socketPath, now }: AppProps) {
  const s = useStore(store);
  const { stdout } = useStdout();

  useEffect(() => {
    const onResize = () => store.getState().setViewport(stdout.columns || 80, stdout.rows || 24);
    onResize();
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, store]);

  useInput((input, key) => handleInput(store.getState, input, key));

  const width = Math.max(20, s.viewport.cols);
  const rows = Math.max(8, s.viewport.rows);
  const notice = noticeLines(s, width);
  // the list gives up rows to a notice of more than one line
  const height = Math.max(1, listHeight(rows) - (notice.lines.length - 1));
  let body;
  if (s.help) body = <HelpView width={width} height={height} />;
  else {
    switch (s.view) {
      case 'providers':
        body = (
          <ProvidersView providers={s.providers} selected={s.providerSel} width={width} height={height} />
        );
        break;
      case 'servers':
        body = (
          <ServersView
            provider={s.provider?.name ?? ''}
            servers={s.servers}
            matches={s.matches}
            selected={s.serverSel}
            filter={s.filter}
            filtering={s.filtering}
            width={width}
            height={height}
          />
        );
        break;
      case 'launch':
        body = <LaunchView target={s.target} form={s.form} recent={s.recent} width={width} height={height} />;
        break;
      case 'namespaces':
        body = (
          <NamespacesView
            namespaces={s.namespaces}
            selected={s.nsSel}
            uid={uid}
            daemonUp={s.daemon.state === 'connected'}
            width={width}
            height={height}
            now={now}
          />
        );
        break;
    }
  }
  const d = daemonText(s.daemon, socketPath);
  const last = s.lastRun ? `   last run: ${s.lastRun.result}` : '';
  return (
    <Box flexDirection="column" width={width} height={rows}>
      <Title s={s} width={width} />
      {body}
      <NoticeLines lines={notice.lines} color={notice.color} />
      <Text dimColor wrap="truncate">
        {fit(keyHints(s), width)}
      </Text>
      <Text wrap="truncate">
        <Text color={d.color}>{d.text}</Text>
        <Text dimColor>{last}</Text>
      </Text>
    </Box>
  );
}
