import { vi } from 'vitest';

/** Captures everything Powertools writes (it writes to process.stdout through its own Console). */
export class LogCapture {
  readonly lines: string[] = [];
  private spies: { mockRestore(): void }[] = [];
  start(): this {
    // info/debug go to stdout, warn/error to stderr
    for (const stream of [process.stdout, process.stderr]) {
      this.spies.push(
        vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown) => {
          this.lines.push(String(chunk));
          return true;
        }) as never),
      );
    }
    return this;
  }
  stop(): void {
    for (const spy of this.spies) spy.mockRestore();
    this.spies = [];
  }
  text(): string {
    return this.lines.join('');
  }
}
