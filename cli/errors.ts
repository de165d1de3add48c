/** A problem the person at the terminal can fix: printed as its one line, without a stack (cli/main.ts run). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
