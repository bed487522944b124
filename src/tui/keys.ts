// Maps one key press (Ink's parsed input) to store actions. Kept apart from the components so
// the whole key map is plain code the tests drive directly.
import type { Key } from 'ink';
import { isTextField, type TuiActions, type TuiState } from './store.js';

export type KeyInfo = Pick<
  Key,
  | 'upArrow'
  | 'downArrow'
  | 'leftArrow'
  | 'rightArrow'
  | 'pageUp'
  | 'pageDown'
  | 'home'
  | 'end'
  | 'return'
  | 'escape'
  | 'ctrl'
  | 'shift'
  | 'tab'
  | 'backspace'
  | 'delete'
  | 'meta'
>;

export const NO_KEY: KeyInfo = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageUp: false,
  pageDown: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
};

function printable(input: string, key: KeyInfo): boolean {
  return input !== '' && !key.ctrl && !key.meta && !/[\u0000-\u001f\u007f]/.test(input);
}

export function handleKey(s: TuiState & TuiActions, input: string, key: KeyInfo): void {
  if (s.running || s.quitting) return;
  if (key.ctrl && input === 'c') {
    s.quit();
    return;
  }
  if (s.help) {
    if (key.escape || input === '?' || input === 'q' || key.return) s.toggleHelp();
    return;
  }
  if (s.stopPrompt) {
    if (input === 'y' || input === 'Y') void s.confirmStop(true);
    else void s.confirmStop(false);
    return;
  }
  const erase = key.backspace || key.delete;

  if (s.view === 'servers' && s.filtering) {
    if (key.escape) s.endFilter();
    else if (key.return) s.choose();
    else if (key.upArrow) s.move(-1);
    else if (key.downArrow) s.move(1);
    else if (key.pageUp) s.page(-1);
    else if (key.pageDown) s.page(1);
    else if (erase) s.eraseFilter();
    else if (key.tab) s.endFilter();
    else if (printable(input, key)) s.typeFilter(input);
    return;
  }

  if (s.view === 'launch') {
    const textField = isTextField(s.form.focus);
    if (key.escape) s.back();
    else if (key.return) s.choose();
    else if (key.upArrow || (key.tab && key.shift)) s.focusField(-1);
    else if (key.downArrow || key.tab) s.focusField(1);
    else if (key.pageUp || key.home) s.moveTo('first');
    else if (key.pageDown || key.end) s.moveTo('last');
    else if (erase) s.eraseField();
    else if (textField && printable(input, key)) s.typeField(input);
    else if (!textField && (input === ' ' || key.leftArrow || key.rightArrow)) s.toggleField();
    else if (!textField && input === '?') s.toggleHelp();
    else if (!textField && input === 'q') s.quit();
    else if (!textField && input === '2') s.showView('namespaces');
    return;
  }

  // list views: providers, servers, namespaces
  if (key.upArrow || input === 'k') s.move(-1);
  else if (key.downArrow || input === 'j') s.move(1);
  else if (key.pageUp || (key.ctrl && input === 'b')) s.page(-1);
  else if (key.pageDown || (key.ctrl && input === 'f') || input === ' ') s.page(1);
  else if (key.home || input === 'g') s.moveTo('first');
  else if (key.end || input === 'G') s.moveTo('last');
  else if (key.return || key.rightArrow || input === 'l') s.choose();
  else if (key.escape || key.leftArrow || input === 'h' || erase) s.back();
  else if (input === '/' && s.view === 'servers') s.startFilter();
  else if (key.tab) s.toggleTab();
  else if (input === '1') s.showView(s.view === 'namespaces' ? s.browseView : s.view);
  else if (input === '2') s.showView('namespaces');
  else if (input === '?') s.toggleHelp();
  else if (input === 'q') s.quit();
  else if (input === 'r' && s.view !== 'namespaces') s.reload();
  else if (s.view === 'namespaces' && (input === 's' || input === 'x' || input === 'd')) s.requestStop();
}

/**
 * One chunk of input as Ink hands it over. A chunk of plain characters (typed fast, pasted, or a
 * held-down key) arrives as one string; it is split here into single key presses, so "jj",
 * "\x7f\x7f" or "de\r" act like the keys one after another.
 */
export function handleInput(state: () => TuiState & TuiActions, input: string, key: KeyInfo): void {
  if (input === '\n') {
    // Enter typed while the terminal was still cooked arrives as a newline (ICRNL)
    handleKey(state(), '', { ...NO_KEY, return: true });
    return;
  }
  if (input.length <= 1 || input.startsWith('\x1b')) {
    handleKey(state(), input, key);
    return;
  }
  for (const ch of input) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\r' || ch === '\n') handleKey(state(), '', { ...NO_KEY, return: true });
    else if (ch === '\x7f' || ch === '\b')
      handleKey(state(), '', { ...NO_KEY, delete: ch === '\x7f', backspace: ch === '\b' });
    else if (ch === '\t') handleKey(state(), '', { ...NO_KEY, tab: true });
    else if (code < 0x20) handleKey(state(), String.fromCharCode(code + 96), { ...NO_KEY, ctrl: true });
    else handleKey(state(), ch, NO_KEY);
  }
}
