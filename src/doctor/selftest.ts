// The end-to-end self-test (filled in below once the daemon and the peer world exist).
import { result, type CheckResult } from './types.js';

export async function runSelfTest(_o: {
  socketPath: string;
  daemonReachable: boolean;
}): Promise<CheckResult[]> {
  return [result('selftest', 'end-to-end self-test', 'skip', 'not available in this build')];
}
