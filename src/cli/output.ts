import type { Writable } from 'node:stream'
import { formatKeyValues, formatTable, type Column } from './table-format.js'

/**
 * Where a command's results go. Results go to stdout; errors, hints and progress go to
 * stderr so that `tenantctl list --json | jq` always reads clean JSON.
 *
 * @example
 *   out.success('Tenant acme suspended')   // "✓ Tenant acme suspended"
 *   out.table(tenants, columns)
 */
export class Output {
  constructor(
    readonly stdout: Writable,
    readonly stderr: Writable,
    /** `--json`: print raw API answers instead of tables and sentences. */
    readonly json: boolean,
    /** stderr is a terminal: progress bars may redraw in place. */
    readonly interactive: boolean,
  ) {}

  /** Prints a value as indented JSON. */
  printJson(value: unknown): void {
    this.stdout.write(JSON.stringify(value, null, 2) + '\n')
  }

  /** A one-line confirmation, "✓ <text>". */
  success(text: string): void {
    this.stdout.write(`✓ ${text}\n`)
  }

  line(text = ''): void {
    this.stdout.write(text + '\n')
  }

  table<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
    this.stdout.write(formatTable(rows, columns))
  }

  keyValues(pairs: ReadonlyArray<readonly [string, unknown]>): void {
    this.stdout.write(formatKeyValues(pairs))
  }

  /** Status lines that are not results (e.g. "waiting for operation ..."). */
  note(text: string): void {
    this.stderr.write(text + '\n')
  }

  error(message: string, hint?: string): void {
    this.stderr.write(`error: ${message}\n`)
    if (hint) this.stderr.write(`hint: ${hint}\n`)
  }
}
