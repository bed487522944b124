// The exec options a launch starts from: upstream's defaults (killswitch on, no extras).
import { defaultExecOptions, type ExecOptions } from '../protocol/messages.js';

export function defaultOptions(provider: string): ExecOptions {
  return defaultExecOptions(provider);
}
