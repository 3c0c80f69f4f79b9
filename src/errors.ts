import createError from '@fastify/error'

/** @fastify/error upper-cases codes; the API answers with the original spelling. */
const publicCodes = new Map<string, string>()

function defineError(code: string, message: string, statusCode: number) {
  publicCodes.set(code.toUpperCase(), code)
  return createError(code, message, statusCode)
}

/** The `error` field of the JSON reply for a coded error (e.g. "TenantNotFound"). */
export function publicCode(code: string): string {
  return publicCodes.get(code) ?? code
}

/**
 * Every coded error tenantd answers with. Domain code throws these; the one error
 * handler in src/http/plugins/error-handler.ts maps them to `{ error, message }`.
 *
 * @example
 *   throw new TenantNotFound('acme')
 *   // -> 404 {"error":"TenantNotFound","message":"No tenant \"acme\" ..."}
 */
export const TenantNotFound = defineError(
  'TenantNotFound',
  'No tenant "%s". Check the slug, subdomain or id with `tenantctl list`.',
  404
)
export const TenantSuspended = defineError('TenantSuspended', 'Tenant "%s" is suspended: %s', 403)
export const TenantCanceled = defineError('TenantCanceled', 'Tenant "%s" is canceled: %s', 403)
export const TenantNotActive = defineError('TenantNotActive', 'Tenant "%s" is %s and does not serve traffic.', 403)
export const TenantExists = defineError('TenantExists', '%s', 409)
export const TenantDatabaseUnavailable = defineError(
  'TenantDatabaseUnavailable',
  'The database of tenant "%s" is not reachable right now; retry shortly. Operators: run `tenantctl test-connection %s`.',
  503
)
export const CrossTenantAccessBlocked = defineError(
  'CrossTenantAccessBlocked',
  'This token belongs to another tenant. Log in on this tenant\'s own address.',
  403
)
export const ValidationError = defineError('ValidationError', '%s', 400)
export const InvalidCredentials = defineError('InvalidCredentials', 'Wrong email or password.', 401)
export const Unauthorized = defineError('Unauthorized', '%s', 401)
export const Forbidden = defineError('Forbidden', '%s', 403)
export const AccountLocked = defineError(
  'AccountLocked',
  'Too many failed logins for this account. Try again in %s seconds.',
  423
)
export const RefreshTokenReused = defineError(
  'RefreshTokenReused',
  'This refresh token was already used; every session of this login was revoked. Log in again.',
  401
)
export const InvalidRefreshToken = defineError(
  'InvalidRefreshToken',
  'The refresh token is unknown, expired or revoked. Log in again.',
  401
)
export const OperationNotFound = defineError('OperationNotFound', 'No operation "%s". List them with `tenantctl ops`.', 404)
export const HostNotFound = defineError('HostNotFound', 'No db host "%s". List them with `tenantctl hosts list`.', 404)
export const NotFound = defineError('NotFound', '%s', 404)
export const Conflict = defineError('Conflict', '%s', 409)
export const InvalidTransition = defineError('InvalidTransition', '%s', 409)
export const OperationInProgress = defineError('OperationInProgress', '%s', 409)
export const HostUnavailable = defineError('HostUnavailable', '%s', 503)
export const NoHostAvailable = defineError('NoHostAvailable', '%s', 503)
export const ModuleNotFound = defineError('ModuleNotFound', 'No module "%s". List them with `tenantctl modules list`.', 404)
export const ModuleNotInstalled = defineError(
  'ModuleNotInstalled',
  'Module "%s" is not installed for tenant "%s". An operator can install it: `tenantctl modules install %s`.',
  404
)
export const OperationFailed = defineError('OperationFailed', '%s', 409)
export const PoolExhausted = defineError(
  'PoolExhausted',
  'Too many tenant connections are busy right now; retry shortly.',
  503
)
export const DomainTaken = defineError('DomainTaken', '%s', 409)
export const PlanNotFound = defineError('PlanNotFound', 'There is no plan "%s". List the plans with `tenantctl plans`.', 404)
export const DomainNotFound = defineError(
  'DomainNotFound',
  'Tenant "%s" has no domain "%s". List its domains with `tenantctl domains list %s`.',
  404
)
export const DomainNotVerified = defineError('DomainNotVerified', '%s', 422)
/** A logo that is not one of the accepted raster images (by Content-Type and by its bytes). */
export const UnsupportedMediaType = defineError('UnsupportedMediaType', '%s', 415)
export const PayloadTooLarge = defineError('PayloadTooLarge', '%s', 413)
/** A credential rotation's old login role still had sessions when its drain timeout ran out. */
export const CredentialDrainTimeout = defineError('CredentialDrainTimeout', '%s', 409)

/** SQLSTATEs tenantd treats specially (never match on message text). */
export const SqlState = {
  uniqueViolation: '23505',
  duplicateDatabase: '42P04',
  duplicateObject: '42710',
  undefinedObject: '42704',
  invalidCatalogName: '3D000',
  invalidPassword: '28P01',
  invalidAuthorization: '28000',
  objectInUse: '55006',
  /** "database ... is not currently accepting connections" (ALLOW_CONNECTIONS false) */
  objectNotInPrerequisiteState: '55000',
  tooManyConnections: '53300',
  cannotConnectNow: '57P03',
  adminShutdown: '57P01',
  dependentObjects: '2BP01',
} as const

export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code
    return typeof code === 'string' ? code : undefined
  }
  return undefined
}

/** Network-level failures of a connection attempt: the server is down or unreachable. */
export function isConnectionFailure(error: unknown): boolean {
  const code = sqlState(error)
  if (code === undefined) return false
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'].includes(code) ||
    code === SqlState.cannotConnectNow ||
    code === SqlState.adminShutdown ||
    code === SqlState.tooManyConnections ||
    code === SqlState.invalidCatalogName ||
    code === SqlState.invalidPassword ||
    // "role ... is not permitted to log in": a move's cutover closed the old host to the
    // tenant's role; a request that passed the freeze check a moment before gets a 503 too.
    code === SqlState.invalidAuthorization
  )
}
/** The Caddyfile template or Caddy refused a render; the good file keeps serving. */
export const EdgeRenderRefused = defineError('EdgeRenderRefused', '%s', 422)
export const BackupNotFound = defineError(
  'BackupNotFound',
  'Tenant "%s" has no backup "%s". List its backups with `tenantctl backup list %s`.',
  404
)
/** The catalog knows the backup but its file is gone from storage. */
export const BackupFileMissing = defineError('BackupFileMissing', '%s', 404)
/** Not verified, failed, pruned, or still running: never offered for restore. */
export const BackupNotRestorable = defineError('BackupNotRestorable', '%s', 409)
/** The backup holds migrations this tenantd's tenant-migrations/ does not have. */
export const BackupNewerThanCode = defineError('BackupNewerThanCode', '%s', 409)
/**
 * The tenant is frozen for a few seconds (a restore's database swap): 503, and the error
 * handler sends `retryAfterSeconds` as Retry-After.
 */
export const TenantFrozen = defineError('TenantFrozen', 'Tenant "%s" is briefly unavailable: %s. Retry in %s seconds.', 503)
/** Nothing to undo: no restore, or its previous database was already dropped. */
export const RestoreNotUndoable = defineError('RestoreNotUndoable', '%s', 409)
/** A move cannot be rolled back: none, already rolled back, or its kept source database is gone. */
export const MoveNotRollbackable = defineError('MoveNotRollbackable', '%s', 409)
/** A body given as a tenant export is not one: not JSON, another format or version, truncated, damaged. */
export const InvalidExport = defineError('InvalidExport', '%s', 400)
/** The export holds migrations, modules, tables or columns this tenantd does not have. */
export const ExportNewerThanCode = defineError('ExportNewerThanCode', '%s', 409)
