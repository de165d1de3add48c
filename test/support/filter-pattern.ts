/*
 * A reading of CloudWatch Logs' JSON filter-pattern syntax, the subset lib/refusals.ts writes: `{ … }` around
 * comparisons `$.field = value` / `$.field != value` (a quoted or bare string, `*` as a wildcard at its start or
 * end), joined by `&&` and `||` (`&&` binds tighter) with parentheses. Written from the CloudWatch Logs user
 * guide ("Filter and pattern syntax"), because no emulator here evaluates these patterns: moto 5.2 stores
 * metric filters but publishes no metric from them, and its FilterLogEvents reads plain terms only.
 *
 * What it proves: the patterns in the template are well-formed in that syntax and pick the log lines they are
 * meant to, with the field names the stage's access-log format really writes. What it cannot prove: that
 * CloudWatch Logs parses them the same way, or that API Gateway fills each field as our sample lines say
 * (both are AWS's behaviour; checked on a first deploy, README). Anything outside the subset throws.
 */

type Node = { kind: 'or' | 'and'; left: Node; right: Node } | { kind: 'cmp'; field: string; op: '=' | '!='; value: string };

export function compileFilterPattern(pattern: string): (event: Record<string, unknown>) => boolean {
  const text = pattern.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) throw new Error(`not a JSON filter pattern: ${pattern}`);
  const tokens = tokenize(text.slice(1, -1));
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected))
      throw new Error(`filter pattern: expected ${expected ?? 'more'} at token ${at} of ${pattern}`);
    return token;
  };
  const expr = (): Node => {
    let left = conj();
    while (peek() === '||') {
      take();
      left = { kind: 'or', left, right: conj() };
    }
    return left;
  };
  const conj = (): Node => {
    let left = term();
    while (peek() === '&&') {
      take();
      left = { kind: 'and', left, right: term() };
    }
    return left;
  };
  const term = (): Node => {
    if (peek() === '(') {
      take('(');
      const inner = expr();
      take(')');
      return inner;
    }
    const field = take();
    if (!/^\$\.[A-Za-z0-9_-]+$/.test(field)) throw new Error(`filter pattern: unsupported selector ${field}`);
    const op = take();
    if (op !== '=' && op !== '!=') throw new Error(`filter pattern: unsupported operator ${op}`);
    const raw = take();
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (!raw.startsWith('"') && !/^[A-Za-z0-9_.*-]+$/.test(raw)) throw new Error(`filter pattern: unquoted value ${raw}`);
    return { kind: 'cmp', field: field.slice(2), op, value };
  };
  const tree = expr();
  if (at !== tokens.length) throw new Error(`filter pattern: trailing ${tokens.slice(at).join(' ')} in ${pattern}`);
  return (event) => evaluate(tree, event);
}

function evaluate(node: Node, event: Record<string, unknown>): boolean {
  if (node.kind !== 'cmp')
    return node.kind === 'or'
      ? evaluate(node.left, event) || evaluate(node.right, event)
      : evaluate(node.left, event) && evaluate(node.right, event);
  const actual = event[node.field];
  if (typeof actual !== 'string') throw new Error(`sample log line has no string field ${node.field}`);
  const equal = wildcardEquals(node.value, actual);
  return node.op === '=' ? equal : !equal;
}

/** `*` matches any text at the start or end of the value; elsewhere it is itself. */
function wildcardEquals(expected: string, actual: string): boolean {
  const starts = expected.startsWith('*');
  const ends = expected.endsWith('*') && expected.length > 1;
  const core = expected.slice(starts ? 1 : 0, ends ? -1 : undefined);
  if (starts && ends) return actual.includes(core);
  if (starts) return actual.endsWith(core);
  if (ends) return actual.startsWith(core);
  return actual === expected;
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '(' || c === ')') tokens.push(text[i++]!);
    else if (text.startsWith('&&', i) || text.startsWith('||', i) || text.startsWith('!=', i)) {
      tokens.push(text.slice(i, i + 2));
      i += 2;
    } else if (c === '=') tokens.push(text[i++]!);
    else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      tokens.push(text.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s()=!&|"]/.test(text[j]!)) j++;
      if (j === i) throw new Error(`filter pattern: unexpected ${c} at ${i} in ${text}`);
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}
