// `vopono --help` and every subcommand's help are complete: a real description (no placeholder),
// every option described, and the help renders.
import { describe, expect, it } from 'vitest';
import { fullProgram } from '../../../src/cli/commands/completions.js';

describe('help', () => {
  it('every subcommand has a description and described options', async () => {
    const program = await fullProgram();
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(
      expect.arrayContaining([
        'exec',
        'list',
        'stop',
        'servers',
        'sync',
        'daemon',
        'doctor',
        'tui',
        'demo',
        'completions',
      ]),
    );
    for (const c of program.commands) {
      const d = c.description();
      expect(d.length, `${c.name()} description`).toBeGreaterThan(10);
      expect(d, c.name()).not.toMatch(/not built yet/);
      for (const o of c.options) expect(o.description.length, `${c.name()} ${o.flags}`).toBeGreaterThan(3);
      const help = c.helpInformation();
      expect(help).toContain(`Usage: vopono ${c.name()}`);
    }
  });
});
