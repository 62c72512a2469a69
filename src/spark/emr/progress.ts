/**
 * Progress on stderr: lines always (state transitions, notes), and on a terminal a one-line spinner under
 * them, redrawn in place. When stderr is not a terminal there is no spinner and no control characters.
 */
import type { Writable } from 'node:stream';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const CLEAR_LINE = '\r\x1b[2K';

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private text = '';

  constructor(
    private readonly out: Writable & { isTTY?: boolean },
    private readonly intervalMs = 100,
  ) {}

  get tty(): boolean {
    return this.out.isTTY === true;
  }

  /** A line for people; the spinner (if any) is redrawn below it. */
  line(text: string): void {
    this.out.write(this.tty && this.timer ? `${CLEAR_LINE}${text}\n` : `${text}\n`);
    this.draw();
  }

  /** What the spinner says (a no-op off a terminal). */
  spin(text: string): void {
    if (!this.tty) return;
    this.text = text;
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.frame = (this.frame + 1) % FRAMES.length;
        this.draw();
      }, this.intervalMs);
      this.timer.unref();
    }
    this.draw();
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.out.write(CLEAR_LINE);
  }

  private draw(): void {
    if (this.tty && this.timer) this.out.write(`${CLEAR_LINE}${FRAMES[this.frame]} ${this.text}`);
  }
}
