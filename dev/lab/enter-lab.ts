// Commands that run inside the lab (`baton demo`, `baton chaos --lab`) start
// themselves again through the launcher when they are not already inside:
// it takes the machine-wide lock, makes the lab namespace, and removes every
// trace of the run afterwards, whatever happens.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { insideLab } from './lab-netns.js';

const LAUNCHER = fileURLToPath(new URL('./launch.js', import.meta.url));
const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** Undefined when already inside the lab (go on); otherwise the exit code of the run inside it. */
export async function runInsideLab(args: readonly string[]): Promise<number | undefined> {
  if (insideLab()) return undefined;
  if (process.getuid?.() !== 0) {
    throw new Error('the lab needs root: it creates network namespaces, veth pairs and a bridge (run as root, or through sudo)');
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LAUNCHER, '--', process.execPath, '--enable-source-maps', CLI, ...args], { stdio: 'inherit' });
    // Ctrl-C reaches the whole process group; the launcher tears down.
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => undefined);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
