/**
 * A start-up failure the operator can fix: its message is the one line `npm start` prints
 * (what happened and what to do), never a stack trace. The cause keeps the details for the log.
 *
 * @example
 *   throw new StartupError('port 5000 on 127.0.0.1 is already in use; set PORT to a free port', { cause: error })
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StartupError'
  }
}

/** Where the catalog lives, for messages (never the password). */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url)
    const db = parsed.pathname.replace(/^\//, '') || '(default database)'
    return `${parsed.hostname}:${parsed.port || 5432}/${db} as ${decodeURIComponent(parsed.username) || '(default user)'}`
  } catch {
    return 'DATABASE_URL'
  }
}

/**
 * The one line for a failure to reach the catalog database, by error code (errno or SQLSTATE).
 * Undefined when the error is not about reaching it.
 */
export function catalogFailure(error: unknown, where: string): string | undefined {
  const code = errorCode(error)
  const hint = 'check DATABASE_URL'
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot reach the catalog database at ${where}: connection refused; start PostgreSQL there or ${hint}`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach the catalog database at ${where}: the host name does not resolve; ${hint}`
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot reach the catalog database at ${where}: no answer (${code}); check the address, the network and firewalls, or ${hint}`
    case '28P01':
    case '28000':
      return `the catalog database at ${where} refused the login (wrong password or no pg_hba.conf entry); ${hint}`
    case '3D000':
      return `the catalog database at ${where} does not exist; create it (CREATE DATABASE ... OWNER <tenantd role>) or ${hint}`
    case '57P03':
      return `the catalog database at ${where} is starting up or shutting down; start tenantd again in a moment`
    case '42501':
      return `the catalog role at ${where} lacks a privilege tenantd needs (${firstMessageLine(error)}); make it the owner of the catalog database`
    default:
      if (/connection timeout|timeout expired/i.test(error instanceof Error ? error.message : '')) {
        return `cannot reach the catalog database at ${where}: no answer within the connection timeout; check the address, the network and firewalls, or ${hint}`
      }
      return undefined
  }
}

/** errno code or SQLSTATE of an error, looking through AggregateError and causes. */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
    if (current instanceof AggregateError && current.errors.length) current = current.errors[0]
    else current = (current as { cause?: unknown }).cause
  }
  return undefined
}

function firstMessageLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200)
}
