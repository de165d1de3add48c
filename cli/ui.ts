import { styleText } from 'node:util';

/* Terminal output: colour only on a terminal, progress on stderr so stdout stays clean for pipes. */

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
type Style = Parameters<typeof styleText>[0];
export const paint = (style: Style, text: string) => (colour ? styleText(style, text) : text);

// Terminal-safe text lives below the CLI, so that `npm start`'s request log uses the same rule.
export { printable, printableJson, printableStrings } from '../contract/printable';

export function table(headers: string[], rows: string[][]): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ESC of ANSI colour codes is exactly what this strips.
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths = headers.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c + ' '.repeat(widths[i]! - visible(c)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => paint('bold', h))), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A one-line progress indicator for work that may take more than a second. */
export class Progress {
  private readonly tty = process.stderr.isTTY;
  private started = Date.now();
  constructor(private readonly total: number | undefined) {}

  update(done: number, label: string): void {
    const count = this.total === undefined ? `${done}` : `${done}/${this.total}`;
    const text = `[${count}] ${label}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${text.slice(0, (process.stderr.columns ?? 80) - 1)}`);
    else if (Date.now() - this.started > 1_000) {
      process.stderr.write(`${text}\n`);
      this.started = Date.now();
    }
  }

  done(): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
  }
}
