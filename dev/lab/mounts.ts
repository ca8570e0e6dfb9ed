// Mounts the node software leaves under the lab's folders (containerd's
// overlay root filesystems, the kubelet's tmpfs volumes, pod network
// namespaces): they must go before the folders can be removed, deepest
// first, and a busy one is detached lazily rather than left behind.
import { readFile } from 'node:fs/promises';
import { run } from './exec.js';

/** Mount points at or below dir in this mount namespace, deepest first. */
export async function mountsUnder(dir: string, mountinfo?: string): Promise<string[]> {
  const text = mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8'));
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const points = text
    .split('\n')
    .map((line) => unescapeMountPath(line.split(' ')[4] ?? ''))
    .filter((m) => m === dir || m.startsWith(prefix));
  return [...new Set(points)].sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
}

/** mountinfo escapes space, tab, newline and backslash as octal (\040...). */
export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export async function unmountUnder(dir: string): Promise<void> {
  // A mount can hide another at the same point: repeat until none is left (bounded).
  for (let pass = 0; pass < 5; pass++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) return;
    for (const m of points) {
      const r = await run('umount', [m], { allowFailure: true });
      if (r.exitCode !== 0) await run('umount', ['-l', m], { allowFailure: true });
    }
  }
}
