/**
 * Exit codes of tenantctl. Scripts rely on them, so they never change meaning:
 * 0 done, 1 the work failed (server error, failed operation, unreachable server),
 * 2 the command line was wrong or a confirmation was refused, 130 interrupted (Ctrl-C).
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
} as const

/**
 * A failure tenantctl reports as `error: <message>` plus an optional `hint: <hint>` line.
 *
 * @example
 *   throw new CliError('operation 42 failed', { hint: 'tenantctl ops retry 42' })
 */
export class CliError extends Error {
  readonly exitCode: number
  readonly hint: string | undefined

  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'CliError'
    this.exitCode = options.exitCode ?? ExitCode.failure
    this.hint = options.hint
  }
}

/**
 * A wrong command line: unknown option, missing argument, refused confirmation. Exit code 2.
 *
 * @example
 *   throw new UsageError('missing <id>', { hint: 'tenantctl help show' })
 */
export class UsageError extends CliError {
  constructor(message: string, options: { hint?: string } = {}) {
    super(message, { exitCode: ExitCode.usage, hint: options.hint })
    this.name = 'UsageError'
  }
}

/**
 * An error answer of tenantd: `{ error, message }` with its HTTP status.
 * The message is the server's own sentence; `code` is its `error` field (e.g. `TenantNotFound`).
 */
export class ApiError extends CliError {
  readonly status: number
  readonly code: string

  constructor(status: number, code: string, message: string, hint?: string) {
    super(message, { hint })
    this.name = 'ApiError'
    this.status = status
    this.code = code
  }
}
