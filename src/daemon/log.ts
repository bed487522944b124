// One line per event on stderr: journald stores it with the unit's name and a timestamp.
let quiet = false;

/** The sudo fallback's one-shot root side shares the user's terminal: it logs nothing there. */
export function setQuiet(value: boolean): void {
  quiet = value;
}

export function log(message: string): void {
  if (!quiet) process.stderr.write(`vopono-daemon: ${message}\n`);
}
