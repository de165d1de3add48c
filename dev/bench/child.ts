import { fork, type ChildProcess } from 'node:child_process';

/** Starts a bench script in its own process (TypeScript through tsx), its stdout discarded. */
export function startChild(script: string, args: string[] = [], env: Record<string, string> = {}): ChildProcess {
  return fork(script, args, {
    execArgv: ['--import', 'tsx', '--disable-warning=NodeVersionSupportWarning'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

/** The first IPC message that has `key`. */
export function messageFrom<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (message && typeof message === 'object' && key in message) {
        child.off('message', onMessage);
        resolve((message as Record<string, T>)[key]!);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`bench child exited with ${code} before sending ${key}`)));
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
