// What `vopono doctor` reports: one line per check, each failure with the fix to apply.

export type Status = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable id for scripts (--json), e.g. "kernel.veth", "daemon.access". */
  id: string;
  /** What is checked, e.g. "veth pairs". */
  title: string;
  status: Status;
  /** What was found. */
  detail: string;
  /** What to do about it (fail/warn/skip). */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

export function result(id: string, title: string, status: Status, detail: string, fix?: string): CheckResult {
  return fix === undefined ? { id, title, status, detail } : { id, title, status, detail, fix };
}

export function reportOf(checks: CheckResult[]): DoctorReport {
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}
