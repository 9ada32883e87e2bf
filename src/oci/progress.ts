/**
 * Pull progress, as docker and genpolicy users expect: on a terminal, one live line per image layer
 * with bytes received, size and rate, redrawn in place; elsewhere one line when a layer starts and one
 * when it is pinned. Quiet mode is simply not asking for progress.
 */
import type { Writable } from 'node:stream';

export interface PullProgress {
  layerStarted(image: string, digest: string, size: number): void;
  layerBytes(image: string, digest: string, bytes: number): void;
  layerDone(image: string, digest: string): void;
}

interface Row {
  image: string;
  digest: string;
  size: number;
  received: number;
  started: number;
  finished?: number;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1536 -> "1.5 KB" (powers of 1000, as docker shows sizes). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** The text of one layer's line. */
export function formatRow(row: Row, now: number): string {
  const seconds = Math.max(((row.finished ?? now) - row.started) / 1000, 0.001);
  const rate = `${formatBytes(row.received / seconds)}/s`;
  const short = row.digest.replace(/^sha256:/, '').slice(0, 12);
  const amount = row.size > 0 ? `${formatBytes(row.received)} / ${formatBytes(row.size)}` : formatBytes(row.received);
  const state = row.finished !== undefined ? 'pinned' : 'pulling';
  return `${row.image} ${short}: ${state} ${amount} ${rate}`;
}

/** Lines redrawn in place with ANSI cursor movement, at most every `intervalMs`. */
export class TerminalProgress implements PullProgress {
  private readonly rows: Row[] = [];
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Writable,
    private readonly intervalMs = 200,
  ) {}

  layerStarted(image: string, digest: string, size: number): void {
    this.rows.push({ image, digest, size, received: 0, started: Date.now() });
    this.schedule();
  }

  layerBytes(image: string, digest: string, bytes: number): void {
    const row = this.find(image, digest);
    if (row) row.received += bytes;
    this.schedule();
  }

  layerDone(image: string, digest: string): void {
    const row = this.find(image, digest);
    if (row) row.finished = Date.now();
    this.draw();
  }

  private find(image: string, digest: string): Row | undefined {
    return this.rows.find((r) => r.image === image && r.digest === digest && r.finished === undefined);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, this.intervalMs);
    this.timer.unref();
  }

  private draw(): void {
    const now = Date.now();
    let text = this.drawn > 0 ? `\u001b[${this.drawn}A` : '';
    for (const row of this.rows) text += `\u001b[2K${formatRow(row, now)}\n`;
    this.drawn = this.rows.length;
    this.out.write(text);
  }
}

/** Plain lines for logs and pipes: a layer's start and its end, never redrawn. */
export class LineProgress implements PullProgress {
  private readonly rows = new Map<string, Row>();

  constructor(private readonly out: Writable) {}

  layerStarted(image: string, digest: string, size: number): void {
    this.rows.set(`${image} ${digest}`, { image, digest, size, received: 0, started: Date.now() });
    this.out.write(`pulling ${image} layer ${digest}${size > 0 ? ` (${formatBytes(size)})` : ''}\n`);
  }

  layerBytes(image: string, digest: string, bytes: number): void {
    const row = this.rows.get(`${image} ${digest}`);
    if (row) row.received += bytes;
  }

  layerDone(image: string, digest: string): void {
    const row = this.rows.get(`${image} ${digest}`);
    if (!row) return;
    row.finished = Date.now();
    this.out.write(`${formatRow(row, row.finished)}\n`);
  }
}

let shared: PullProgress | undefined;

/** The process's progress display on stderr (one for all images, so concurrent pulls share it). */
export function stderrProgress(): PullProgress {
  shared ??= process.stderr.isTTY ? new TerminalProgress(process.stderr) : new LineProgress(process.stderr);
  return shared;
}
