// The TUI's whole state and every action on it. Components render this store and dispatch its
// actions; the store talks to the outside only through TuiDeps (daemon, launcher, catalogue).
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AppInfo, ExecOptions, NamespaceInfo } from '../protocol/messages.js';
import { withNoneProvider, type ProviderSummary, type ServerRow } from './catalogue.js';
import { buildIndex, filterRows, type FilterIndex } from './filter.js';
import { MAX_RECENT } from './history.js';
import { CommandLineError, describeExit, parseList, parsePorts, splitCommand } from './format.js';
import type { DaemonConnection, LaunchRequest, TuiDeps } from './ports.js';

export type View = 'providers' | 'servers' | 'launch' | 'namespaces';
export type BrowseView = Exclude<View, 'namespaces'>;

export type DaemonState =
  | { state: 'connecting' }
  | { state: 'connected' }
  /** No daemon listens: browsing works, launches go through the sudo fallback. */
  | { state: 'absent'; reason: string }
  | { state: 'lost' }
  | { state: 'error'; message: string; hint?: string };

export interface Notice {
  kind: 'info' | 'ok' | 'error';
  text: string;
  hint?: string;
  /** The view the notice belongs to; it is shown there, in place. */
  view: View;
}

export interface LaunchTarget {
  provider: string;
  server?: ServerRow;
}

export const FORM_FIELDS = [
  'command',
  'config',
  'killswitch',
  'dns',
  'keepAlive',
  'forward',
  'launch',
] as const;
export type FormField = (typeof FORM_FIELDS)[number];
export type TextField = 'command' | 'config' | 'dns' | 'forward';

export function isTextField(f: FormState['focus']): f is TextField {
  return f === 'command' || f === 'config' || f === 'dns' || f === 'forward';
}

export interface FormState {
  command: string;
  /** The config file of the `custom` provider (read by the client, as the user). */
  config: string;
  killswitch: boolean;
  dns: string;
  keepAlive: boolean;
  forward: string;
  /** A FORM_FIELDS name, or `recent:N` for the N-th recent command. */
  focus: FormField | `recent:${number}`;
}

export interface LastRun {
  command: string;
  result: string;
  ok: boolean;
  namespace?: string;
  pid?: number;
}

export type NamespaceRow =
  { kind: 'ns'; ns: NamespaceInfo } | { kind: 'app'; ns: NamespaceInfo; app: AppInfo };

export interface TuiState {
  view: View;
  browseView: BrowseView;
  help: boolean;
  viewport: { cols: number; rows: number };
  daemon: DaemonState;

  providers: ProviderSummary[];
  providerSel: number;

  provider?: ProviderSummary;
  servers: ServerRow[];
  serverIndex: FilterIndex;
  filter: string;
  filtering: boolean;
  matches: number[];
  serverSel: number;

  target?: LaunchTarget;
  form: FormState;
  recent: string[];

  namespaces: NamespaceInfo[];
  nsSel: number;
  stopPrompt?: { target: string; label: string };

  notice?: Notice;
  lastRun?: LastRun;
  running: boolean;
  quitting: boolean;
}

export interface TuiActions {
  init(): void;
  dispose(): void;
  setViewport(cols: number, rows: number): void;
  showView(view: View): void;
  toggleTab(): void;
  toggleHelp(): void;
  move(delta: number): void;
  moveTo(where: 'first' | 'last'): void;
  page(direction: 1 | -1): void;
  choose(): void;
  back(): void;
  startFilter(): void;
  typeFilter(text: string): void;
  eraseFilter(): void;
  endFilter(): void;
  focusField(delta: number): void;
  typeField(text: string): void;
  eraseField(): void;
  toggleField(): void;
  launch(): Promise<void>;
  requestStop(): void;
  confirmStop(yes: boolean): Promise<void>;
  dismissNotice(): void;
  /** Reads the catalogue again (after a `vopono sync` in another terminal). */
  reload(): void;
  quit(): void;
}

export type TuiStore = StoreApi<TuiState & TuiActions>;

/** Namespaces flattened into the rows of the namespaces screen (a namespace, then its apps). */
export function namespaceRows(namespaces: readonly NamespaceInfo[]): NamespaceRow[] {
  const rows: NamespaceRow[] = [];
  for (const ns of namespaces) {
    rows.push({ kind: 'ns', ns });
    for (const app of ns.apps) rows.push({ kind: 'app', ns, app });
  }
  return rows;
}

/** The rows the body of a list view has at the current size (the chrome takes the rest). */
export function listHeight(rows: number): number {
  // the frame fills the screen: title bar, column header, notice line, key line and status line
  // take five rows
  return Math.max(3, rows - 5);
}

export function errorText(err: unknown): { text: string; hint?: string } {
  const text = err instanceof Error ? err.message : String(err);
  if (typeof err === 'object' && err !== null && 'hint' in err) {
    const hint: unknown = err.hint;
    if (typeof hint === 'string' && hint !== '') return { text, hint };
  }
  return { text };
}

export function emptyForm(): FormState {
  return {
    command: '',
    config: '',
    killswitch: true,
    dns: '',
    keepAlive: false,
    forward: '',
    focus: 'command',
  };
}

/** The fields of the launch form for a target, in order (the config file only for `custom`). */
export function formFields(target: LaunchTarget | undefined): FormField[] {
  return FORM_FIELDS.filter((f) => f !== 'config' || target?.provider === 'custom');
}

function formFocusList(s: Pick<TuiState, 'recent' | 'target'>): FormState['focus'][] {
  return [...formFields(s.target), ...s.recent.map((_, i): `recent:${number}` => `recent:${i}`)];
}

function clamp(n: number, count: number): number {
  return Math.max(0, Math.min(n, count - 1));
}

export function buildLaunch(state: TuiState, deps: TuiDeps): LaunchRequest {
  const target = state.target;
  if (!target) throw new Error('pick a provider first');
  const argv = splitCommand(state.form.command);
  const base = deps.defaultOptions(target.provider);
  const options: ExecOptions = {
    ...base,
    noKillswitch: !state.form.killswitch,
    keepAlive: state.form.keepAlive,
    dns: parseList(state.form.dns),
    forward: parsePorts(state.form.forward),
  };
  if (target.server) {
    options.server = target.server.name;
    options.protocol = target.server.protocol;
  }
  const req: LaunchRequest = { argv, cwd: deps.cwd, env: deps.env, options };
  if (target.provider === 'custom') {
    const path = state.form.config.trim();
    if (path === '') throw new CommandLineError('the custom provider needs a config file: type its path');
    req.customPath = path;
  }
  return req;
}

function isPreferred(p: ProviderSummary, name: string | undefined): boolean {
  const n = name?.toLowerCase();
  return n !== undefined && (p.name === n || p.aliases.includes(n));
}

export function createTuiStore(deps: TuiDeps, initial?: Partial<TuiState>): TuiStore {
  let conn: DaemonConnection | undefined;
  let retry: NodeJS.Timeout | undefined;
  let disposed = false;

  const store = createStore<TuiState & TuiActions>()((set, get) => {
    const notify = (kind: Notice['kind'], text: string, hint?: string, view?: View): void =>
      set({ notice: { kind, text, hint, view: view ?? get().view } });

    const scheduleConnect = (): void => {
      if (disposed || retry) return;
      retry = setTimeout(() => {
        retry = undefined;
        void connect();
      }, deps.retryMs);
      retry.unref();
    };

    const connect = async (): Promise<void> => {
      if (disposed) return;
      const wasAbsent = get().daemon.state === 'absent';
      if (!wasAbsent && get().daemon.state !== 'connected') set({ daemon: { state: 'connecting' } });
      let c: DaemonConnection;
      try {
        c = await deps.connect();
      } catch (err) {
        if (disposed) return;
        if (deps.isUnavailable(err))
          set({ daemon: { state: 'absent', reason: errorText(err).text }, namespaces: [] });
        else {
          const e = errorText(err);
          set({ daemon: { state: 'error', message: e.text, hint: e.hint } });
        }
        scheduleConnect();
        return;
      }
      if (disposed) {
        c.close();
        return;
      }
      conn = c;
      set({ daemon: { state: 'connected' } });
      c.onClose(() => {
        if (conn !== c) return;
        conn = undefined;
        if (disposed) return;
        set({ daemon: { state: 'lost' } });
        scheduleConnect();
      });
      c.subscribe((namespaces) => setNamespaces(namespaces));
      try {
        setNamespaces(await c.list());
      } catch (err) {
        notify('error', errorText(err).text, errorText(err).hint, 'namespaces');
      }
    };

    const setNamespaces = (namespaces: NamespaceInfo[]): void => {
      const { nsSel, namespaces: old } = get();
      // keep the selection on the same row (namespace name + pid) when the list changes
      const oldRow = namespaceRows(old)[nsSel];
      const rows = namespaceRows(namespaces);
      let sel = oldRow
        ? rows.findIndex(
            (r) =>
              r.ns.name === oldRow.ns.name &&
              r.kind === oldRow.kind &&
              (r.kind === 'ns' || (oldRow.kind === 'app' && r.app.pid === oldRow.app.pid)),
          )
        : 0;
      if (sel < 0) sel = Math.min(nsSel, rows.length - 1);
      set({ namespaces, nsSel: Math.max(0, sel) });
    };

    const openServers = (p: ProviderSummary): void => {
      let servers: ServerRow[];
      try {
        servers = deps.catalogue.servers(p.name);
      } catch (err) {
        const e = errorText(err);
        notify('error', e.text, e.hint, 'providers');
        return;
      }
      const serverIndex = buildIndex(servers);
      const want = deps.preferredServer?.toLowerCase();
      const preferred =
        want !== undefined && isPreferred(p, deps.preferredProvider)
          ? servers.findIndex((r) => r.name.toLowerCase().startsWith(want))
          : -1;
      set({
        provider: p,
        servers,
        serverIndex,
        filter: '',
        filtering: false,
        matches: servers.map((_, i) => i),
        serverSel: Math.max(0, preferred),
        view: 'servers',
        browseView: 'servers',
        notice: undefined,
      });
    };

    const openLaunch = (target: LaunchTarget): void => {
      const same =
        get().target?.provider === target.provider && get().target?.server?.file === target.server?.file;
      set({
        target,
        view: 'launch',
        browseView: 'launch',
        notice: same ? get().notice : undefined,
        form: { ...get().form, focus: 'command' },
      });
    };

    return {
      view: 'providers',
      browseView: 'providers',
      help: false,
      viewport: { cols: 80, rows: 24 },
      daemon: { state: 'connecting' },
      providers: [],
      providerSel: 0,
      servers: [],
      serverIndex: { haystacks: [] },
      filter: '',
      filtering: false,
      matches: [],
      serverSel: 0,
      form: emptyForm(),
      recent: [],
      namespaces: [],
      nsSel: 0,
      running: false,
      quitting: false,
      ...initial,

      init() {
        try {
          const providers = withNoneProvider(deps.catalogue.providers());
          const at = providers.findIndex((p) => isPreferred(p, deps.preferredProvider));
          set({ providers, providerSel: at >= 0 ? at : get().providerSel });
        } catch (err) {
          const e = errorText(err);
          set({ providers: withNoneProvider([]) });
          notify('error', `could not read the provider catalogue: ${e.text}`, e.hint, 'providers');
        }
        void connect();
      },

      dispose() {
        disposed = true;
        if (retry) clearTimeout(retry);
        retry = undefined;
        const c = conn;
        conn = undefined;
        c?.close();
      },

      setViewport(cols, rows) {
        const v = get().viewport;
        if (v.cols !== cols || v.rows !== rows) set({ viewport: { cols, rows } });
      },

      showView(view) {
        if (view === 'namespaces') set({ view, help: false, stopPrompt: undefined });
        else set({ view, browseView: view, help: false });
      },

      toggleTab() {
        const s = get();
        set({
          view: s.view === 'namespaces' ? s.browseView : 'namespaces',
          help: false,
          stopPrompt: undefined,
        });
      },

      toggleHelp() {
        set({ help: !get().help });
      },

      move(delta) {
        const s = get();
        switch (s.view) {
          case 'providers':
            set({ providerSel: clamp(s.providerSel + delta, s.providers.length) });
            break;
          case 'servers':
            set({ serverSel: clamp(s.serverSel + delta, s.matches.length) });
            break;
          case 'namespaces':
            set({ nsSel: clamp(s.nsSel + delta, namespaceRows(s.namespaces).length), stopPrompt: undefined });
            break;
          case 'launch':
            get().focusField(delta);
            break;
        }
      },

      moveTo(where) {
        const s = get();
        const big = where === 'first' ? -1e9 : 1e9;
        if (s.view === 'launch') {
          const list = formFocusList(s);
          set({
            form: { ...s.form, focus: (where === 'first' ? list[0] : list[list.length - 1]) ?? 'command' },
          });
        } else get().move(big);
      },

      page(direction) {
        get().move(direction * Math.max(1, listHeight(get().viewport.rows) - 1));
      },

      choose() {
        const s = get();
        switch (s.view) {
          case 'providers': {
            const p = s.providers[s.providerSel];
            if (!p) return;
            if (p.name === 'none' || p.name === 'custom') {
              openLaunch({ provider: p.name });
              return;
            }
            if (!p.synced) {
              notify(
                'error',
                `${p.name} is not synced yet: its server list is missing.`,
                `run: vopono sync ${p.name}`,
                'providers',
              );
              return;
            }
            openServers(p);
            return;
          }
          case 'servers': {
            const i = s.matches[s.serverSel];
            const server = i === undefined ? undefined : s.servers[i];
            if (!server || !s.provider) return;
            set({ filtering: false });
            openLaunch({ provider: s.provider.name, server });
            return;
          }
          case 'launch': {
            const f = s.form.focus;
            if (f.startsWith('recent:')) {
              const cmd = s.recent[Number(f.slice(7))];
              if (cmd !== undefined) set({ form: { ...s.form, command: cmd, focus: 'command' } });
              return;
            }
            if (f === 'killswitch' || f === 'keepAlive') {
              get().toggleField();
              return;
            }
            void get().launch();
            return;
          }
          case 'namespaces': {
            const row = namespaceRows(s.namespaces)[s.nsSel];
            if (!row) return;
            const ns = row.ns;
            const p = s.providers.find((x) => x.name === ns.provider || x.aliases.includes(ns.provider));
            let server: ServerRow | undefined;
            if (ns.server !== undefined && p && p.name !== 'none') {
              try {
                server = deps.catalogue
                  .servers(p.name)
                  .find((r) => r.name === ns.server && (r.protocol === ns.protocol || ns.protocol === ''));
              } catch {
                server = undefined;
              }
              server ??= { provider: p.name, protocol: ns.protocol, name: ns.server, file: '' };
            }
            openLaunch({ provider: p?.name ?? ns.provider, server });
            return;
          }
        }
      },

      back() {
        const s = get();
        if (s.help) {
          set({ help: false });
          return;
        }
        if (s.stopPrompt) {
          set({ stopPrompt: undefined });
          return;
        }
        switch (s.view) {
          case 'servers':
            if (s.filtering) {
              get().endFilter();
              return;
            }
            if (s.filter !== '') {
              set({ filter: '', matches: s.servers.map((_, i) => i), serverSel: 0 });
              return;
            }
            set({ view: 'providers', browseView: 'providers', notice: undefined });
            return;
          case 'launch':
            if (s.target?.server && s.provider?.name === s.target.provider) {
              set({ view: 'servers', browseView: 'servers', notice: undefined });
            } else {
              set({ view: 'providers', browseView: 'providers', notice: undefined });
            }
            return;
          case 'namespaces':
            set({ view: s.browseView });
            return;
          case 'providers':
            if (s.notice) set({ notice: undefined });
            return;
        }
      },

      startFilter() {
        if (get().view === 'servers') set({ filtering: true });
      },

      typeFilter(text) {
        const s = get();
        const filter = s.filter + text;
        const matches = filterRows(s.serverIndex, filter, { query: s.filter, matches: s.matches });
        set({ filter, matches, serverSel: 0 });
      },

      eraseFilter() {
        const s = get();
        if (s.filter === '') return;
        const filter = s.filter.slice(0, -1);
        set({ filter, matches: filterRows(s.serverIndex, filter), serverSel: 0 });
      },

      endFilter() {
        set({ filtering: false });
      },

      focusField(delta) {
        const s = get();
        const list = formFocusList(s);
        const at = list.indexOf(s.form.focus);
        const next = list[(at + delta + list.length * 4) % list.length] ?? 'command';
        set({ form: { ...s.form, focus: next } });
      },

      typeField(text) {
        const s = get();
        const f = s.form.focus;
        if (isTextField(f)) {
          const clean = text.replace(/[\r\n]/g, '');
          set({ form: { ...s.form, [f]: s.form[f] + clean } });
        } else if (text === ' ') get().toggleField();
      },

      eraseField() {
        const s = get();
        const f = s.form.focus;
        if (isTextField(f)) set({ form: { ...s.form, [f]: s.form[f].slice(0, -1) } });
      },

      toggleField() {
        const s = get();
        const f = s.form.focus;
        if (f === 'killswitch' || f === 'keepAlive') set({ form: { ...s.form, [f]: !s.form[f] } });
      },

      async launch() {
        const s = get();
        if (s.running) return;
        let req: LaunchRequest;
        try {
          req = buildLaunch(s, deps);
        } catch (err) {
          notify('error', errorText(err).text, errorText(err).hint, 'launch');
          return;
        }
        const command = s.form.command.trim();
        const recent = [command, ...s.recent.filter((c) => c !== command)].slice(0, MAX_RECENT);
        set({
          running: true,
          recent,
          notice: { kind: 'info', text: `starting ${command} ...`, view: 'launch' },
        });
        deps.saveRecent?.(recent);
        const run: LastRun = { command, result: '', ok: false };
        try {
          const status = await deps.stepAside(req, {
            onStarted: (pid, namespace) => {
              run.pid = pid;
              run.namespace = namespace;
            },
          });
          run.result = describeExit(status);
          run.ok = 'code' in status && status.code === 0;
          const where = run.namespace ? ` in ${run.namespace}` : '';
          set({
            lastRun: run,
            running: false,
            notice: {
              kind: run.ok ? 'ok' : 'info',
              text: `${command}: ${run.result}${where}`,
              view: 'launch',
            },
          });
        } catch (err) {
          const e = errorText(err);
          run.result = 'failed';
          set({
            lastRun: run,
            running: false,
            notice: { kind: 'error', text: e.text, hint: e.hint, view: 'launch' },
          });
        }
      },

      requestStop() {
        const s = get();
        if (s.view !== 'namespaces') return;
        const row = namespaceRows(s.namespaces)[s.nsSel];
        if (!row) return;
        if (row.ns.owner !== deps.uid && deps.uid !== 0) {
          notify('error', `${row.ns.name} belongs to uid ${row.ns.owner}: only its owner can stop it.`);
          return;
        }
        if (!conn) {
          notify('error', 'not connected to the daemon', 'start it: systemctl start vopono');
          return;
        }
        const target = row.kind === 'ns' ? row.ns.name : String(row.app.pid);
        const label =
          row.kind === 'ns'
            ? `namespace ${row.ns.name} and its ${row.ns.apps.length} app(s)`
            : `${row.app.command.join(' ')} (pid ${row.app.pid})`;
        set({ stopPrompt: { target, label } });
      },

      async confirmStop(yes) {
        const pending = get().stopPrompt;
        set({ stopPrompt: undefined });
        if (!yes || !pending) return;
        const c = conn;
        if (!c) {
          notify('error', 'not connected to the daemon', 'start it: systemctl start vopono', 'namespaces');
          return;
        }
        try {
          const r = await c.stop(pending.target);
          notify(
            'ok',
            `stopped ${r.pids.length} app(s)` +
              (r.namespaces.length ? `, removed ${r.namespaces.join(', ')}` : ''),
            undefined,
            'namespaces',
          );
        } catch (err) {
          const e = errorText(err);
          notify('error', e.text, e.hint, 'namespaces');
        }
      },

      dismissNotice() {
        if (get().notice) set({ notice: undefined });
      },

      reload() {
        deps.catalogue.refresh?.();
        const s = get();
        let providers: ProviderSummary[];
        try {
          providers = withNoneProvider(deps.catalogue.providers());
        } catch (err) {
          const e = errorText(err);
          notify('error', `could not read the provider catalogue: ${e.text}`, e.hint);
          return;
        }
        set({ providers, providerSel: clamp(s.providerSel, providers.length) });
        if (s.view === 'servers' && s.provider) {
          const p = providers.find((x) => x.name === s.provider?.name) ?? s.provider;
          const { filter, serverSel } = s;
          openServers(p);
          if (filter !== '') {
            const index = get().serverIndex;
            set({ filter, matches: filterRows(index, filter) });
          }
          set({ serverSel: clamp(serverSel, get().matches.length) });
        }
        notify(
          'ok',
          `read the catalogue again: ${providers.filter((p) => p.synced && p.serverCount > 0).length} synced`,
        );
      },

      quit() {
        if (get().quitting) return;
        set({ quitting: true });
        get().dispose();
        deps.quit();
      },
    };
  });
  return store;
}
