import { spawnSync } from 'node:child_process';

/*
 * The machine tools the test run needs besides npm packages. A missing one fails the run with one line
 * saying how to install it: a test that silently skips would let CI go green with a part missing.
 * `.ci/run` installs Java and chromium with apt-get; cfn-lint ships with this kind of machine.
 */

export interface Tool {
  /** How the tool is started. */
  readonly command: string;
  readonly versionArgs: readonly string[];
  /** What it is for, and how to get it: the one line a missing tool prints. */
  readonly missing: string;
}

export const TOOLS = {
  java: {
    command: 'java',
    versionArgs: ['-version'],
    missing: 'Java (17+) is needed for DynamoDB Local: apt-get install default-jre-headless',
  },
  chromium: {
    command: 'chromium',
    versionArgs: ['--version'],
    missing: "chromium is needed for the console's browser tests: apt-get install chromium",
  },
  cfnLint: {
    command: 'cfn-lint',
    versionArgs: ['--version'],
    missing: 'cfn-lint is needed to lint the synthesised templates: pip install cfn-lint (preinstalled on this kind of machine)',
  },
} as const satisfies Record<string, Tool>;

const found = new Map<Tool, boolean>();

export function hasTool(tool: Tool): boolean {
  if (!found.has(tool)) found.set(tool, spawnSync(tool.command, tool.versionArgs, { stdio: 'ignore' }).status === 0);
  return found.get(tool) ?? false;
}

/** The tool's command, or an error whose message is the one line that says how to install it. */
export function requireTool(tool: Tool): string {
  if (!hasTool(tool)) throw new Error(tool.missing);
  return tool.command;
}
