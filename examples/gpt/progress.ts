/**
 * The training progress line: iteration, loss, tokens/s and ETA. On a terminal it is one
 * line redrawn in place with a bar; otherwise (a log file, CI) a plain line every
 * `logInterval` iterations.
 */
export interface ProgressSink {
  isTTY: boolean;
  columns?: number;
  write(text: string): void;
}

const BAR_WIDTH = 24;

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

export class Progress {
  private trainSeconds = 0;
  private itersDone = 0;
  private tokens = 0;
  private lineOpen = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly totalIters: number,
    private readonly tokensPerIter: number,
    private readonly logInterval: number,
  ) {}

  /**
   * Records a finished iteration `it` (0-based) with its training loss, learning rate and
   * the seconds its step took. Throughput counts training steps only (not evaluations or
   * checkpoints), as bench/gpt_peer.py does.
   */
  step(it: number, loss: number, lr: number, seconds: number): void {
    this.itersDone++;
    this.tokens += this.tokensPerIter;
    this.trainSeconds += seconds;
    const tokensPerSec = this.tokens / this.trainSeconds;
    const remaining = this.totalIters - (it + 1);
    const eta = (this.trainSeconds / this.itersDone) * remaining;
    const stats = `iter ${it + 1}/${this.totalIters} loss ${loss.toFixed(4)} lr ${lr.toExponential(2)} ${Math.round(tokensPerSec)} tok/s ETA ${formatDuration(eta)}`;
    if (this.sink.isTTY) {
      const filled = Math.round((BAR_WIDTH * (it + 1)) / this.totalIters);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
      const line = `${bar} ${stats}`.slice(0, Math.max(20, (this.sink.columns ?? 120) - 1));
      this.sink.write(`\r${line}\x1b[K`);
      this.lineOpen = true;
    } else if ((it + 1) % this.logInterval === 0 || it + 1 === this.totalIters) {
      this.sink.write(`${stats}\n`);
    }
  }

  /** Prints a message on its own line (ending the redrawn bar's line first). */
  message(text: string): void {
    if (this.lineOpen) this.sink.write('\n');
    this.lineOpen = false;
    this.sink.write(`${text}\n`);
  }

  /** Average training tokens per second so far (0 before the first step). */
  tokensPerSecond(): number {
    return this.trainSeconds > 0 ? this.tokens / this.trainSeconds : 0;
  }

  finish(): void {
    if (this.lineOpen) this.sink.write('\n');
    this.lineOpen = false;
  }
}
