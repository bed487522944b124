// A small reader for systemd unit files (the subset vopono's own units use): sections, Key=Value
// lines, comments, backslash continuations, and repeated keys. Used by the tests and by the
// socket-activation harness, which run the daemon with the settings the units declare.

export type UnitFile = Map<string, Array<[key: string, value: string]>>;

export function parseUnit(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Array<[string, string]> | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1) + ' ' + lines[++i]!.trim();
    }
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = header[1]!;
      section = unit.get(name) ?? [];
      unit.set(name, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || section === undefined) throw new Error(`unit file line ${i + 1}: not Key=Value: ${line}`);
    section.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** Every value of `key` in `section`, in order (an empty assignment resets the list, as in systemd). */
export function unitValues(unit: UnitFile, section: string, key: string): string[] {
  const out: string[] = [];
  for (const [k, v] of unit.get(section) ?? []) {
    if (k !== key) continue;
    if (v === '') out.length = 0;
    else out.push(v);
  }
  return out;
}

/** The capability names of CapabilityBoundingSet= (allow-list form), lower case without "cap_". */
export function boundingSet(unit: UnitFile): string[] {
  const caps = unitValues(unit, 'Service', 'CapabilityBoundingSet').join(' ').split(/\s+/).filter(Boolean);
  if (caps.some((c) => c.startsWith('~')))
    throw new Error('CapabilityBoundingSet deny-list form is not supported');
  return caps.map((c) => c.toLowerCase().replace(/^cap_/, ''));
}
