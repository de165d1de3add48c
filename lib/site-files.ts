import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { checkContextSites, checkSite, type SiteConfig, SiteConfigError } from './site-config';

/*
 * Sites defined one file per site, `sites/<id>.json`, beside (or instead of) cdk.json context `sites`: a fleet
 * of hundreds of sites is reviewed, added and retired a file at a time, not as one growing list in cdk.json.
 * The I/O lives here so that site-config.ts stays a pure schema.
 */

/** The folder of site files, relative to the directory `cdk` runs in (the project root); context `sitesDir` overrides it. */
export const DEFAULT_SITES_DIR = 'sites';

export interface SiteSources {
  /** cdk.json context `sites`: a list, or undefined (or empty) when every site is a file. */
  readonly context: unknown;
  /** The folder of `<id>.json` files; `sites` when undefined. A folder that does not exist holds no sites. */
  readonly sitesDir?: string;
  /** What a relative `sitesDir` is resolved against; the process's working directory when undefined. */
  readonly cwd?: string;
}

/** One site file as read: its label (`sites/<id>.json`, as it is shown in problems), the id its name gives, its JSON. */
interface SiteFile {
  readonly label: string;
  readonly nameId: string;
  readonly raw?: unknown;
  readonly problem?: string;
}

/**
 * Every site, cdk.json's first (in their order), then the files' (by name). Fails with one line per problem,
 * each naming cdk.json or the file, and the field: all of them at once, so a fleet's mistakes are fixed in one go.
 */
export function loadSites(sources: SiteSources): SiteConfig[] {
  const { context } = sources;
  const sitesDir = sources.sitesDir ?? DEFAULT_SITES_DIR;
  const contextLines: string[] = [];
  const fileLines: string[] = [];

  let contextSites: SiteConfig[] = [];
  // An empty list is allowed: every site may have moved to its own file.
  if (context !== undefined && !(Array.isArray(context) && context.length === 0)) {
    if (!Array.isArray(context)) contextLines.push('expected a list of sites');
    else {
      const checked = checkContextSites(context);
      contextSites = checked.sites;
      contextLines.push(...checked.problems);
    }
  }
  const fromContext = new Set(contextSites.map((site) => site.id));

  const fileSites: SiteConfig[] = [];
  for (const file of readSiteFiles(sitesDir, sources.cwd ?? process.cwd())) {
    if (file.problem !== undefined) {
      fileLines.push(`${file.label}: ${file.problem}`);
      continue;
    }
    const declared = (file.raw as { id?: unknown } | null)?.id;
    // The name is how a site is found (`-c site=<id>`, a review of sites/): it must not say one site and hold another.
    if (typeof declared === 'string' && declared !== file.nameId) {
      fileLines.push(
        `${file.label}: id: "${declared}" differs from the file name: name the file ${declared}.json or set "id": "${file.nameId}"`,
      );
    }
    const checked = checkSite(file.raw);
    for (const problem of checked.problems) fileLines.push(`${file.label}: ${problem}`);
    if (!checked.site || checked.site.id !== file.nameId) continue;
    if (fromContext.has(checked.site.id)) {
      fileLines.push(`${file.label}: id: "${checked.site.id}" is also defined in cdk.json context "sites": keep one`);
      continue;
    }
    fileSites.push(checked.site);
  }

  // Only cdk.json at fault: its messages exactly as before the site files existed.
  if (fileLines.length === 0 && contextLines.length === 1)
    throw new SiteConfigError(`invalid cdk.json context "sites": ${contextLines[0]}`);
  if (fileLines.length === 0 && contextLines.length > 1) {
    throw new SiteConfigError(`invalid cdk.json context "sites":\n  ${contextLines.join('\n  ')}`);
  }
  const lines = [...contextLines.map((line) => `cdk.json context "sites": ${line}`), ...fileLines];
  if (lines.length === 1) throw new SiteConfigError(`invalid site definitions: ${lines[0]}`);
  if (lines.length > 1) throw new SiteConfigError(`invalid site definitions:\n  ${lines.join('\n  ')}`);

  const sites = [...contextSites, ...fileSites];
  if (sites.length === 0) {
    throw new SiteConfigError(`no sites: define them in cdk.json context "sites" or one file per site, ${join(sitesDir, '<id>.json')}`);
  }
  return sites;
}

/** A site file's name: its id and `.json`, in lower case (what `cdk deploy -c site=<id>` and the stack name use). */
const SITE_FILE_NAME = /^[a-z0-9-]+\.json$/;

/**
 * The folder's `<id>.json` files, by name. Notes (`*.md`, a README) and hidden files are not sites; any other
 * file is a problem in one line, not ignored: a site saved as `mo-555.JSON` or `mo-555.jsn` would otherwise
 * be left out of synth and of `fleet plan` without a word.
 */
function readSiteFiles(sitesDir: string, cwd: string): SiteFile[] {
  let names: string[];
  try {
    names = readdirSync(resolve(cwd, sitesDir), { withFileTypes: true })
      .filter((entry) => !entry.name.startsWith('.') && !entry.isDirectory() && !/\.md$/i.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const misnamed = names.filter((name) => !SITE_FILE_NAME.test(name));
  names = names.filter((name) => SITE_FILE_NAME.test(name));
  const misnamedFiles: SiteFile[] = misnamed.map((name) => {
    const stem = name.replace(/\.[^.]*$/, '').toLowerCase();
    return {
      label: join(sitesDir, name),
      nameId: stem,
      problem: `is not a site file name: a site file is named <id>.json in lower case${/^[a-z0-9-]+$/.test(stem) ? ` (rename it ${stem}.json)` : ''}`,
    };
  });
  return [...misnamedFiles, ...names.map((name) => readSiteFile(sitesDir, cwd, name))];
}

function readSiteFile(sitesDir: string, cwd: string, name: string): SiteFile {
  const label = join(sitesDir, name);
  const nameId = basename(name, '.json');
  let text: string;
  try {
    // An editor's byte-order mark is not the user's mistake.
    text = readFileSync(resolve(cwd, sitesDir, name), 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    // A link to a folder, a file without read permission: one line naming it, like any other problem.
    return {
      label,
      nameId,
      problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): make it a readable file`,
    };
  }
  try {
    return { label, nameId, raw: JSON.parse(text) as unknown };
  } catch (error) {
    return { label, nameId, problem: jsonProblem(text, (error as Error).message) };
  }
}

/** `invalid JSON at line L column C: <the parser's words>`, on one line whatever the parser said. */
export function jsonProblem(text: string, message: string): string {
  const offset = errorOffset(text, message);
  const before = text.slice(0, offset).split('\n');
  const line = before.length;
  const column = before.at(-1)!.length + 1;
  // V8 quotes the text around the fault in some messages (`…, ..."<text>" is not valid JSON`): that may span lines.
  // Cut at the quote by index, not with one regex over the quoted text (`, "…" is not valid JSON$` backtracks
  // quadratically on a long line of `, "`: test/hostile/regex-safety.test.ts).
  const quoted = message.endsWith(' is not valid JSON') ? message.search(/, (?:\.\.\.)?"/) : -1;
  const words = (quoted >= 0 ? message.slice(0, quoted) : message).replace(/ in JSON at position \d+.*$/s, '').replace(/\s+/g, ' ');
  return `invalid JSON at line ${line} column ${column}: ${words}`;
}

/**
 * Where the text goes wrong. V8 states the position in most messages, not in all ("Unexpected token 'x', …"):
 * then it is the shortest prefix that fails for a reason other than ending early (a longer one fails there too).
 */
function errorOffset(text: string, message: string): number {
  const stated = /at position (\d+)/.exec(message);
  if (stated) return Number(stated[1]);
  if (/end of JSON input/.test(message)) return text.length;
  let good = 0;
  let bad = text.length;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    if (failsWithin(text.slice(0, middle))) bad = middle;
    else good = middle;
  }
  return bad - 1;
}

function failsWithin(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch (error) {
    const message = (error as Error).message;
    if (/end of JSON input/.test(message)) return false;
    const stated = /at position (\d+)/.exec(message);
    return !(stated && Number(stated[1]) >= prefix.length);
  }
}
