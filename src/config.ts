import { isIP } from 'node:net'
import path from 'node:path'
import { defaultTemplatePath, type EdgeConfig } from './edge/edge-config.js'
import { tenantMigrationsDir } from './migrations/tenant-migrator.js'
import type { BackupStorageConfig } from './backups/backup-storage.js'
import { validCron } from './backups/backup-schedule-times.js'

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
  /** Peers whose X-Forwarded-* headers are believed, and the only ones the Caddy ask endpoint answers (IPs or CIDRs). */
  trustedProxies: string[]
  /** host:port that domain verification connects to (with Host: <domain>) instead of resolving the domain in DNS. */
  domainVerifyAddress: string | undefined
  /** Verified custom domains are checked again when their last check is this many hours old (0: never). */
  domainRecheckHours: number
  /** Failed re-checks in a row that send a verified domain back to pending. */
  domainRecheckFailures: number
  /** How often each replica looks for tenants whose plan says their credentials are due (minutes; 0: never). */
  credentialCheckMinutes: number
  /** How often one replica samples every tenant database's size for the size history (minutes; 0: never). */
  sizeSampleMinutes: number
  /** How long a credential rotation waits for the old login role's sessions to end before it fails (seconds). */
  credentialDrainSeconds: number
  /** The edge (Caddy): how and where the rendered Caddyfile goes. */
  edge: EdgeConfig
  /** Where backup files go (TENANTD_BACKUP_STORAGE and TENANTD_BACKUP_S3_*). */
  backupStorage: BackupStorageConfig
  /** When and how the fleet is backed up on its own (TENANTD_BACKUP_SCHEDULE and friends). */
  backupSchedule: BackupScheduleConfig
  /** TENANTD_MOVE_KEEP_HOURS: hours a move keeps the source database (renamed, closed) for `move --rollback`. */
  moveKeepHours: number
  /** TENANTD_RESTORE_KEEP_HOURS: hours a restore keeps the previous database for undo before dropping it. */
  restoreKeepHours: number
  /** TENANTD_BACKUP_COMPRESS_LEVEL: pg_dump's zlib level for backups (0-9; 1 costs a third of the CPU of 6 for files about 6 % larger). */
  backupCompressLevel: number
}

export interface BackupScheduleConfig {
  /** Cron expression (5 fields, minute first) for plans without their own; undefined: no scheduled backups. */
  cron: string | undefined
  /** IANA time zone the cron expressions are read in. */
  timezone: string
  /** Scheduled backups running at once, all hosts together... */
  concurrency: number
  /** ...and on any one db host. */
  hostConcurrency: number
  /** Attempts per tenant and slot before the failure is reported. */
  attempts: number
  /** A slot missed by this many hours or less (every replica down) runs when a replica starts. */
  catchUpHours: number
  /** Share (0-1) of each slot's backups test-restored into a scratch database; every tenant at least weekly. */
  testRestoreShare: number
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

/** TENANTD_TRUSTED_PROXIES: comma-separated IPs or CIDRs (e.g. 127.0.0.1,::1,10.0.0.0/8). */
function trustedProxies(env: NodeJS.ProcessEnv): string[] {
  const name = 'TENANTD_TRUSTED_PROXIES'
  const raw = text(env, name) ?? '127.0.0.1,::1'
  return raw.split(',').map((item) => {
    const entry = item.trim()
    const [address, bits, extra] = entry.split('/')
    const family = isIP(address ?? '')
    const max = family === 6 ? 128 : 32
    const validBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max)
    if (!family || !validBits || extra !== undefined) {
      throw new ConfigError(name, `"${entry}" is not an IP address or CIDR; give a comma-separated list such as 127.0.0.1,::1,10.0.0.0/8`)
    }
    return entry
  })
}

/** A host:port such as 127.0.0.1:8080 or [::1]:8080. */
function hostPort(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = text(env, name)
  if (raw === undefined) return undefined
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw)
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
    throw new ConfigError(name, `must be host:port such as 127.0.0.1:5000, got "${raw.length > 60 ? `${raw.slice(0, 57)}...` : raw}"`)
  }
  return raw
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, values: readonly T[], fallback: T): T {
  const raw = text(env, name)?.toLowerCase()
  if (raw === undefined) return fallback
  if (!(values as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${values.join(', ')}, got "${raw.slice(0, 40)}"`)
  return raw as T
}

/** TENANTD_EDGE_UPSTREAM: one host:port, or several (replicas) separated by commas. */
function upstreams(env: NodeJS.ProcessEnv): string[] | undefined {
  const raw = text(env, 'TENANTD_EDGE_UPSTREAM')
  if (raw === undefined) return undefined
  return raw.split(',').map((item) => hostPort({ TENANTD_EDGE_UPSTREAM: item.trim() }, 'TENANTD_EDGE_UPSTREAM')!)
}

/** TENANTD_CADDY* and TENANTD_EDGE_*: see README "The edge (Caddy)". */
function edgeConfig(env: NodeJS.ProcessEnv, host: string, port: number, dataDir: string, baseDomain: string): EdgeConfig {
  const upstreamHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const httpPort = text(env, 'TENANTD_EDGE_HTTP_PORT') === undefined ? undefined : int(env, 'TENANTD_EDGE_HTTP_PORT', 0, 1, 65535)
  const controlHost = (text(env, 'TENANTD_EDGE_CONTROL_HOST') ?? baseDomain).toLowerCase()
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(controlHost)) throw new ConfigError('TENANTD_EDGE_CONTROL_HOST', `must be a host name such as admin.example.com, got "${controlHost.slice(0, 60)}"`)
  return {
    apply: oneOf(env, 'TENANTD_CADDY', ['off', 'reload', 'admin-api'] as const, 'off'),
    mode: oneOf(env, 'TENANTD_EDGE_MODE', ['blocks', 'on-demand'] as const, 'blocks'),
    file: path.resolve(text(env, 'TENANTD_CADDYFILE') ?? path.join(dataDir, 'Caddyfile')),
    template: path.resolve(text(env, 'TENANTD_CADDY_TEMPLATE') ?? defaultTemplatePath),
    caddyBin: text(env, 'TENANTD_CADDY_BIN') ?? 'caddy',
    caddyAdmin: hostPort(env, 'TENANTD_CADDY_ADMIN') ?? 'localhost:2019',
    baseDomain,
    controlHost,
    upstreams: upstreams(env) ?? [`${upstreamHost}:${port}`],
    tls: bool(env, 'TENANTD_EDGE_TLS', true),
    httpPort,
  }
}

/**
 * TENANTD_BACKUP_STORAGE: `file:///dir` (or an absolute path) or `s3://bucket[/prefix]`, with
 * TENANTD_BACKUP_S3_{ENDPOINT,REGION,ACCESS_KEY_ID,SECRET_ACCESS_KEY,FORCE_PATH_STYLE}.
 * Default: the directory backups/ in the data dir.
 */
function backupStorage(env: NodeJS.ProcessEnv, dataDir: string): BackupStorageConfig {
  const name = 'TENANTD_BACKUP_STORAGE'
  const raw = text(env, name)
  if (raw === undefined) return { kind: 'file', directory: path.join(dataDir, 'backups') }
  if (raw.startsWith('s3://')) {
    const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/([A-Za-z0-9!_.*'()\/-]*))?$/.exec(raw)
    if (!match) throw new ConfigError(name, `must be s3://bucket or s3://bucket/prefix with a valid bucket name, got "${raw.slice(0, 80)}"`)
    const endpoint = text(env, 'TENANTD_BACKUP_S3_ENDPOINT')
    if (endpoint !== undefined) {
      let url: URL | undefined
      try {
        url = new URL(endpoint)
      } catch {}
      if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password) {
        throw new ConfigError('TENANTD_BACKUP_S3_ENDPOINT', 'must be an http:// or https:// URL without credentials, e.g. http://127.0.0.1:9000')
      }
    }
    const accessKeyId = text(env, 'TENANTD_BACKUP_S3_ACCESS_KEY_ID')
    const secretAccessKey = text(env, 'TENANTD_BACKUP_S3_SECRET_ACCESS_KEY')
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      throw new ConfigError(accessKeyId === undefined ? 'TENANTD_BACKUP_S3_ACCESS_KEY_ID' : 'TENANTD_BACKUP_S3_SECRET_ACCESS_KEY', 'give both TENANTD_BACKUP_S3_ACCESS_KEY_ID and TENANTD_BACKUP_S3_SECRET_ACCESS_KEY, or neither (AWS default credentials)')
    }
    const region = text(env, 'TENANTD_BACKUP_S3_REGION') ?? 'us-east-1'
    if (!/^[a-z0-9-]{2,40}$/.test(region)) throw new ConfigError('TENANTD_BACKUP_S3_REGION', `must be a region name such as eu-west-1, got "${region.slice(0, 40)}"`)
    return {
      kind: 's3',
      bucket: match[1]!,
      prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, ''),
      endpoint,
      region,
      accessKeyId,
      secretAccessKey,
      // Self-hosted S3 (MinIO, s3rver) usually has no per-bucket DNS names.
      forcePathStyle: bool(env, 'TENANTD_BACKUP_S3_FORCE_PATH_STYLE', endpoint !== undefined),
    }
  }
  const directory = raw.startsWith('file://') ? raw.slice('file://'.length) : raw
  if (!path.isAbsolute(directory)) throw new ConfigError(name, `must be file:///absolute/dir, an absolute path or s3://bucket/prefix, got "${raw.slice(0, 80)}"`)
  return { kind: 'file', directory: path.resolve(directory) }
}

/** TENANTD_BACKUP_*: the scheduler's settings; see README "Scheduled backups". */
function backupSchedule(env: NodeJS.ProcessEnv): BackupScheduleConfig {
  const raw = text(env, 'TENANTD_BACKUP_SCHEDULE') ?? '0 2 * * *'
  const cron = ['off', 'none', 'false'].includes(raw.toLowerCase()) ? undefined : raw
  if (cron !== undefined && !validCron(cron)) {
    throw new ConfigError('TENANTD_BACKUP_SCHEDULE', `must be a cron expression such as "0 2 * * *" (daily at 02:00) or off, got "${raw.slice(0, 60)}"`)
  }
  const timezone = text(env, 'TENANTD_BACKUP_TIMEZONE') ?? 'UTC'
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone })
  } catch {
    throw new ConfigError('TENANTD_BACKUP_TIMEZONE', `must be an IANA time zone such as UTC or Europe/Lisbon, got "${timezone.slice(0, 60)}"`)
  }
  const share = text(env, 'TENANTD_BACKUP_TEST_RESTORE_SHARE') ?? '0.1'
  const testRestoreShare = Number(share)
  if (!/^\d*\.?\d+$/.test(share) || testRestoreShare > 1) {
    throw new ConfigError('TENANTD_BACKUP_TEST_RESTORE_SHARE', `must be a number from 0 to 1 (0.1 = one backup in ten), got "${share.slice(0, 20)}"`)
  }
  return {
    cron,
    timezone,
    concurrency: int(env, 'TENANTD_BACKUP_CONCURRENCY', 2, 1, 64),
    hostConcurrency: int(env, 'TENANTD_BACKUP_HOST_CONCURRENCY', 1, 1, 64),
    attempts: int(env, 'TENANTD_BACKUP_ATTEMPTS', 3, 1, 10),
    catchUpHours: int(env, 'TENANTD_BACKUP_CATCH_UP_HOURS', 24, 0, 24 * 31),
    testRestoreShare,
  }
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
    trustedProxies: trustedProxies(env),
    domainVerifyAddress: hostPort(env, 'TENANTD_DOMAIN_VERIFY_ADDRESS'),
    domainRecheckHours: int(env, 'TENANTD_DOMAIN_RECHECK_HOURS', 24, 0, 24 * 365),
    domainRecheckFailures: int(env, 'TENANTD_DOMAIN_RECHECK_FAILURES', 3, 1, 100),
    credentialCheckMinutes: int(env, 'TENANTD_CREDENTIAL_CHECK_MINUTES', 60, 0, 24 * 60),
    sizeSampleMinutes: int(env, 'TENANTD_SIZE_SAMPLE_MINUTES', 60, 0, 7 * 24 * 60),
    credentialDrainSeconds: int(env, 'TENANTD_CREDENTIAL_DRAIN_SECONDS', 120, 1, 24 * 3600),
    edge: edgeConfig(env, host, int(env, 'PORT', 5000, 0, 65535), path.resolve(text(env, 'TENANTD_DATA_DIR') ?? '.tenantd'), baseDomain),
    backupStorage: backupStorage(env, path.resolve(text(env, 'TENANTD_DATA_DIR') ?? '.tenantd')),
    backupSchedule: backupSchedule(env),
    restoreKeepHours: int(env, 'TENANTD_RESTORE_KEEP_HOURS', 24, 0, 24 * 365),
    backupCompressLevel: int(env, 'TENANTD_BACKUP_COMPRESS_LEVEL', 1, 0, 9),
    moveKeepHours: int(env, 'TENANTD_MOVE_KEEP_HOURS', 72, 0, 24 * 365),
  }
}
