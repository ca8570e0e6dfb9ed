// The machine's own apt sources, read for the Debian suite the stand-in base
// is built from (mmdebstrap takes one-line `deb` entries). Both formats apt
// reads are understood: one-line sources.list and deb822 *.sources. Pure,
// unit-tested beside (apt-sources.test.ts).

export interface AptSource {
  uri: string;
  suite: string;
  components: string[];
}

function oneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    // deb [options] uri suite component...
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m === null) continue;
    out.push({ uri: m[1] as string, suite: m[2] as string, components: (m[3] as string).split(/\s+/).filter((c) => c !== '') });
  }
  return out;
}

function deb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  const withoutComments = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  for (const stanza of withoutComments.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (/^\s/.test(line) && last !== undefined) {
        fields.set(last, `${fields.get(last) ?? ''} ${line.trim()}`);
        continue;
      }
      const m = /^([\w-]+):\s*(.*)$/.exec(line);
      if (m === null) continue;
      last = (m[1] as string).toLowerCase();
      fields.set(last, (m[2] as string).trim());
    }
    const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter((w) => w !== '');
    if (!words('types').includes('deb') || fields.get('enabled')?.toLowerCase() === 'no') continue;
    for (const uri of words('uris')) for (const suite of words('suites')) out.push({ uri, suite, components: words('components') });
  }
  return out;
}

/** Every `deb` source of one file; `name` says its format (*.sources is deb822, anything else one-line). */
export function parseAptSources(name: string, text: string): AptSource[] {
  return name.endsWith('.sources') ? deb822(text) : oneLine(text);
}

/**
 * The one-line entries for a Debian release and its -updates and -security
 * suites, main only (what the official image uses), from the machine's
 * sources; other repositories (vendor repos, backports) are left out.
 */
export function debianMirrors(files: Array<{ name: string; text: string }>, release: string): string[] {
  const wanted = [release, `${release}-updates`, `${release}-security`];
  const out: string[] = [];
  for (const { name, text } of files) {
    for (const s of parseAptSources(name, text)) {
      if (!wanted.includes(s.suite) || !s.components.includes('main')) continue;
      const line = `deb ${s.uri} ${s.suite} main`;
      if (!out.includes(line)) out.push(line);
    }
  }
  return out;
}
