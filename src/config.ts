import path from 'node:path'
import { tenantMigrationsDir } from './migrations/tenant-migrator.js'

/**
 * tenantd's configuration, read once from the environment (see API.md "Configuration").
 * Invalid values stop the start with one line naming the variable and what is wrong.
 *
 * @example
 *   const config = loadConfig(process.env)
 *   // config.port === 5000, config.databaseUrl === undefined (embedded mode)
 */
export interface Config {
  port: number
  host: string
  /** Catalog database; undefined means the embedded PostgreSQL under dataDir. */
  databaseUrl: string | undefined
  dataDir: string
  /** `kid:base64key[,kid:base64key...]`; undefined means the key file in dataDir (embedded only). */
  masterKey: string | undefined
  baseDomain: string
  adminEmail: string | undefined
  adminPassword: string | undefined
  jwtSecret: string | undefined
  logLevel: string
  /** Access token lifetime in seconds. */
  accessTokenTtl: number
  /** Refresh token lifetime in seconds. */
  refreshTokenTtl: number
  /** Requests per minute per client IP on /api/auth/*. */
  authRateLimit: number
  /** Failed logins within lockoutWindow seconds that lock an account. */
  lockoutThreshold: number
  lockoutWindow: number
  /** Most tenant pools kept open at once. */
  poolMaxTenants: number
  /** Most server connections this process holds to tenant databases, all pools together. */
  poolConnectionBudget: number
  /** A tenant pool unused this long (ms) is closed. */
  poolIdleMs: number
  /** Days a canceled tenant's database is kept before hard delete is allowed. */
  retentionDays: number
  /** A running operation whose replica sent no heartbeat for this long (ms) is taken over. */
  operationStaleMs: number
  /** Clone new tenant databases from a per-host template at the latest base schema. */
  provisionFromTemplate: boolean
  /** Where tenant migrations live (base/ and modules/<name>/). */
  tenantMigrationsDir: string
  /** Where pg_dump, pg_restore and psql live. */
  pgBinDir: string | undefined
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string
  ) {
    super(`${variable}: ${problem}`)
    this.name = 'ConfigError'
  }
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`)
  }
  return value
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase()
  if (raw === undefined || raw === '') return fallback
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true
  if (['0', 'false', 'off', 'no'].includes(raw)) return false
  throw new ConfigError(name, `must be true or false, got "${raw}"`)
}

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim()
  return raw === undefined || raw === '' ? undefined : raw
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = text(env, 'DATABASE_URL')
  if (databaseUrl !== undefined) {
    try {
      const url = new URL(databaseUrl)
      if (!/^postgres(ql)?:$/.test(url.protocol)) throw new Error('protocol')
    } catch {
      throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// connection URL')
    }
  }
  const masterKey = text(env, 'TENANTD_MASTER_KEY')
  if (databaseUrl !== undefined && masterKey === undefined) {
    throw new ConfigError(
      'TENANTD_MASTER_KEY',
      'is required when DATABASE_URL is set (format kid:base64-32-byte-key, e.g. k1:$(openssl rand -base64 32))'
    )
  }
  const baseDomain = (text(env, 'TENANTD_BASE_DOMAIN') ?? 'localhost').toLowerCase()
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(baseDomain)) {
    throw new ConfigError('TENANTD_BASE_DOMAIN', `must be a domain name such as example.com, got "${baseDomain}"`)
  }
  const adminEmail = text(env, 'TENANTD_ADMIN_EMAIL')
  if (adminEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(adminEmail)) {
    throw new ConfigError('TENANTD_ADMIN_EMAIL', 'must be an email address')
  }
  const adminPassword = text(env, 'TENANTD_ADMIN_PASSWORD')
  if (adminPassword !== undefined && adminPassword.length < 8) {
    throw new ConfigError('TENANTD_ADMIN_PASSWORD', 'must be at least 8 characters')
  }
  const jwtSecret = text(env, 'JWT_SECRET')
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters')
  }
  if (databaseUrl !== undefined && jwtSecret === undefined) {
    throw new ConfigError('JWT_SECRET', 'is required when DATABASE_URL is set (at least 32 random characters)')
  }
  const host = text(env, 'HOST') ?? '127.0.0.1'
  return {
    port: int(env, 'PORT', 5000, 0, 65535),
    host,
    databaseUrl,
    dataDir: path.resolve(text(env, 'TENANTD_DATA_DIR') ?? '.tenantd'),
    masterKey,
    baseDomain,
    adminEmail,
    adminPassword,
    jwtSecret,
    logLevel: text(env, 'LOG_LEVEL') ?? 'info',
    accessTokenTtl: int(env, 'TENANTD_ACCESS_TOKEN_TTL', 900, 30, 86_400),
    refreshTokenTtl: int(env, 'TENANTD_REFRESH_TOKEN_TTL', 30 * 86_400, 60, 365 * 86_400),
    authRateLimit: int(env, 'TENANTD_AUTH_RATE_LIMIT', 30, 1, 100_000),
    lockoutThreshold: int(env, 'TENANTD_LOCKOUT_THRESHOLD', 5, 1, 1000),
    lockoutWindow: int(env, 'TENANTD_LOCKOUT_WINDOW', 900, 1, 86_400),
    poolMaxTenants: int(env, 'TENANTD_POOL_MAX_TENANTS', 200, 1, 100_000),
    poolConnectionBudget: int(env, 'TENANTD_POOL_CONNECTION_BUDGET', 80, 1, 100_000),
    poolIdleMs: int(env, 'TENANTD_POOL_IDLE_MS', 60_000, 100, 86_400_000),
    retentionDays: int(env, 'TENANTD_RETENTION_DAYS', 30, 0, 3650),
    operationStaleMs: int(env, 'TENANTD_OPERATION_STALE_MS', 30_000, 500, 3_600_000),
    provisionFromTemplate: bool(env, 'TENANTD_PROVISION_TEMPLATE', true),
    tenantMigrationsDir: path.resolve(text(env, 'TENANTD_TENANT_MIGRATIONS_DIR') ?? tenantMigrationsDir),
    pgBinDir: text(env, 'TENANTD_PG_BIN_DIR'),
  }
}
