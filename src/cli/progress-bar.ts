import type { Writable } from 'node:stream'

const barWidth = 30

/**
 * A progress bar for long work. On a terminal it redraws one line in place
 * ("[██████░░░░] 40% createDatabase"); elsewhere (CI logs, pipes) it prints a plain line
 * each time the step changes, so logs stay readable.
 *
 * @example
 *   const bar = new ProgressBar(process.stderr, process.stderr.isTTY)
 *   bar.update(40, 'createDatabase')
 *   bar.finish()
 */
export class ProgressBar {
  private lastLine = ''
  private lastLabel: string | undefined
  private drawn = false

  constructor(
    private readonly stream: Writable,
    private readonly interactive: boolean,
  ) {}

  /** Shows `percent` (0..100, clamped) and the current step name. */
  update(percent: number, label: string): void {
    const clamped = Math.max(0, Math.min(100, Math.round(Number.isFinite(percent) ? percent : 0)))
    const pct = `${String(clamped).padStart(3)}%`
    if (this.interactive) {
      const filled = Math.round((clamped / 100) * barWidth)
      const line = `[${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}] ${pct} ${label}`
      if (line === this.lastLine) return
      this.stream.write(`\r\x1b[2K${line}`)
      this.lastLine = line
      this.drawn = true
      return
    }
    if (label === this.lastLabel) return
    this.stream.write(`[${pct}] ${label}\n`)
    this.lastLabel = label
  }

  /** Ends the redrawn line so later output starts on a fresh line. */
  finish(): void {
    if (this.interactive && this.drawn) this.stream.write('\n')
    this.drawn = false
  }
}
