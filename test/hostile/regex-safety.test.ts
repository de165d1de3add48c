import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkSync, type Diagnostics } from 'recheck';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { greaterThanPattern, MALFORMED_LENGTH_PATTERN, MAX_BODY_BYTES } from '../../contract/limits';

/*
 * Every check on request data runs in linear time (issue 17, point 2). A backtracking pattern is the easy
 * way to break that (the old base64 check took half a minute on one body), so every regular expression in
 * the code that reads request data (lambdas/, local/, cli/), in the MIS consumer (it reads what senders
 * sent) and in the stack (the WAF runs a backtracking engine on the Content-Length header) is found by
 * parsing the source, and a ReDoS checker must call each one safe. A pattern the parser cannot read
 * (built at run time) must be listed below with the reason it is safe, so none slips in unchecked.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const FOLDERS = ['contract', 'lambdas', 'local', 'cli', 'consumer', 'lib', 'fleet', 'console'];

interface Found {
  readonly where: string;
  readonly source: string;
  readonly flags: string;
}

/**
 * Patterns built at run time, by file and expression, and how each is made safe. A new one fails the
 * test until it is listed here, checked through its generator or explained.
 */
const BUILT_AT_RUN_TIME: Readonly<Record<string, { readonly why: string; readonly patterns?: () => string[] }>> = {
  "cli/main.ts: new RegExp(values.only, 'i')": {
    why: "the operator's own --only filter, matched against the simulator's dozen fixed scenario names: no request data",
  },
  'contract/limits.ts: new RegExp(greaterThanPattern(MAX_BODY_BYTES))': {
    why: 'the WAF Content-Length rule, as npm start applies it: checked through its generator, for the limit deployed and for other shapes of limit',
    patterns: () => [MAX_BODY_BYTES, 0, 9, 10, 99, 1_000, 4_194_305, 9_999_999, 10 * 1024 * 1024].map(greaterThanPattern),
  },
  'contract/limits.ts: new RegExp(MALFORMED_LENGTH_PATTERN)': {
    why: 'the WAF rule for a Content-Length that is not one canonical number, as npm start applies it: a constant, checked here',
    patterns: () => [MALFORMED_LENGTH_PATTERN],
  },
  'lib/oversize-guard.ts: pattern': {
    why: "contentLengthRule's regexString: only ever the two patterns above (greaterThanPattern(MAX_BODY_BYTES), MALFORMED_LENGTH_PATTERN)",
  },
};

const sourceFiles = (folder: string): string[] =>
  readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(?:ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') && !name.includes('node_modules'))
    .map((name) => join(ROOT, folder, name));

/** String methods that turn a string argument into a regular expression (`'a+'.match('(a+)+')`). */
const STRING_TO_REGEX_METHODS = new Set(['match', 'matchAll', 'search']);
/** Properties whose string value is a pattern for another engine (AWS WAF's regexMatchStatement, regex pattern sets). */
const PATTERN_PROPERTIES = new Set(['regexString', 'RegexString', 'regularExpressionList']);

function scan(): { literal: Found[]; runTime: Map<string, string> } {
  const literal: Found[] = [];
  const runTime = new Map<string, string>();
  const sources = FOLDERS.flatMap(sourceFiles).map((file) => ({
    path: relative(ROOT, file),
    source: ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true),
  }));
  // `text.match(UUID)`: a name bound to a regular expression literal somewhere here is checked as that literal.
  const regexConstants = new Set<string>();
  const collect = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.initializer && ts.isRegularExpressionLiteral(node.initializer))
      regexConstants.add(node.name.getText());
    ts.forEachChild(node, collect);
  };
  for (const { source } of sources) collect(source);
  for (const { path, source } of sources) {
    const at = (node: ts.Node) => `${path}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    const staticText = (node: ts.Node | undefined) =>
      node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;
    const pattern = (node: ts.Node, sourceNode: ts.Node | undefined, flagsNode?: ts.Node) => {
      const text = staticText(sourceNode);
      const flags = flagsNode === undefined ? '' : staticText(flagsNode);
      if (text !== undefined && flags !== undefined) literal.push({ where: at(node), source: text, flags });
      else runTime.set(`${path}: ${node.getText().replace(/\s+/g, ' ')}`, at(node));
    };
    const visit = (node: ts.Node): void => {
      if (ts.isRegularExpressionLiteral(node)) {
        const slash = node.text.lastIndexOf('/');
        literal.push({ where: at(node), source: node.text.slice(1, slash), flags: node.text.slice(slash + 1) });
      } else if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && node.expression.getText() === 'RegExp') {
        pattern(node, node.arguments?.[0], node.arguments?.[1]);
      } else if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        STRING_TO_REGEX_METHODS.has(node.expression.name.text) &&
        node.arguments[0] !== undefined &&
        !ts.isRegularExpressionLiteral(node.arguments[0]) &&
        !(ts.isIdentifier(node.arguments[0]) && regexConstants.has(node.arguments[0].text))
      ) {
        // A string here is a pattern; anything else not written as a literal is a run-time pattern.
        pattern(node.arguments[0], node.arguments[0]);
      } else if (ts.isPropertyAssignment(node) && PATTERN_PROPERTIES.has(node.name.getText())) {
        const values = ts.isArrayLiteralExpression(node.initializer) ? [...node.initializer.elements] : [node.initializer];
        for (const value of values) pattern(value, value);
        return;
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { literal, runTime };
}

// Step limits only, no clocks: the verdict must not depend on how busy the machine is.
const check = (source: string, flags: string): Diagnostics =>
  checkSync(source, flags, { timeout: null, attackTimeout: null, incubationTimeout: null, seedingTimeout: null });

const verdict = (d: Diagnostics) =>
  d.status === 'safe'
    ? 'safe'
    : d.status === 'vulnerable'
      ? `vulnerable (${d.complexity.summary}), attack ${d.attack.pattern.slice(0, 80)}`
      : `unknown: ${d.error.kind}`;

describe('regular expressions on request data', () => {
  const { literal, runTime } = scan();

  it('are found by parsing the source (the scan sees the known ones)', () => {
    const sources = literal.map((f) => f.source);
    expect(sources).toContain('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$');
    expect(sources).toContain(String.raw`;\s*charset\s*=\s*"?([^";\s]+)"?`);
    expect(literal.length).toBeGreaterThan(20);
  });

  it('are all written as literals, except the run-time ones listed with their reason', () => {
    expect([...runTime.keys()].sort()).toEqual(Object.keys(BUILT_AT_RUN_TIME).sort());
  });

  it('are each called safe by the ReDoS checker', { timeout: 120_000 }, () => {
    const unsafe = literal
      .map((found) => ({ ...found, verdict: verdict(check(found.source, found.flags)) }))
      .filter((result) => result.verdict !== 'safe')
      .map((result) => `${result.where} /${result.source}/${result.flags}: ${result.verdict}`);
    expect(unsafe).toEqual([]);
  });

  it('built at run time are safe for every input their generator is given', () => {
    const generated = Object.entries(BUILT_AT_RUN_TIME).flatMap(([where, { patterns }]) =>
      (patterns?.() ?? []).map((source) => ({ where, source })),
    );
    expect(generated.length).toBeGreaterThan(0);
    const unsafe = generated
      .map((g) => ({ ...g, verdict: verdict(check(g.source, '')) }))
      .filter((g) => g.verdict !== 'safe')
      .map((g) => `${g.where} ${g.source}: ${g.verdict}`);
    expect(unsafe).toEqual([]);
  });

  it('would catch the pattern that stalled the receive functions', () => {
    expect(verdict(check(String.raw`^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$`, ''))).toMatch(/^vulnerable \(2nd degree polynomial\)/);
  });
});
