/*
 * One rule for where the local endpoint is, used by the CLI, the consumer example, the load test and
 * the benchmarks alike: `--base` > N3_CALLBACK_BASE > PORT (on 127.0.0.1) > http://127.0.0.1:3000/.
 * `npm start` prints `export N3_CALLBACK_BASE=…` so that every other tool follows it.
 */

export const DEFAULT_PORT = 3000;

/** A wrong value, said in one line with what to do. */
export class BaseUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BaseUrlError';
  }
}

export function baseUrlFrom(flag: string | undefined, env: Record<string, string | undefined> = process.env): string {
  const [source, value] =
    flag !== undefined && flag !== ''
      ? ['--base', flag]
      : env.N3_CALLBACK_BASE
        ? ['N3_CALLBACK_BASE', env.N3_CALLBACK_BASE]
        : env.PORT
          ? ['PORT', `http://127.0.0.1:${portFrom(env.PORT)}/`]
          : ['default', `http://127.0.0.1:${DEFAULT_PORT}/`];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BaseUrlError(`${source} "${value}" is not a URL: give one like http://127.0.0.1:3000/`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BaseUrlError(`${source} "${value}" is not an http(s) URL`);
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** PORT as a port number, or a one-line error. */
export function portFrom(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65_535) throw new BaseUrlError(`PORT must be a number from 1 to 65535, got "${text}"`);
  return port;
}
