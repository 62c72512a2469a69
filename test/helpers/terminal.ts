import { Capture } from './context.js';

/**
 * A Capture that answers as a terminal's stream does (tty.WriteStream): isTTY, columns, and the cursor
 * methods ora calls, writing the same escape codes, so what a spinner draws can be read back.
 */
export class FakeTerminal extends Capture {
  override isTTY = true;
  columns = 100;
  cursorTo(x: number): boolean {
    return this.write(`\x1b[${x + 1}G`);
  }
  moveCursor(_dx: number, dy: number): boolean {
    return this.write(dy < 0 ? `\x1b[${-dy}A` : '');
  }
  clearLine(): boolean {
    return this.write('\x1b[2K');
  }
}
