import { sql } from 'kysely'
import type { CatalogDb } from '../catalog/catalog-db.js'
import { StartupError } from '../startup/startup-error.js'
import type { SecretSealer } from './secret-sealer.js'

/** What a sealed column holds, for the counts: tenant role passwords, db host admin passwords, backup data keys. */
export type SecretKind = 'tenantPasswords' | 'hostPasswords' | 'backupKeys' | 'otherSecrets'

/** One catalog column of sealed values (`v1:<kid>:...`), in a table keyed by `id`. */
export interface SealedColumn {
  table: string
  column: string
  kind: SecretKind
}

export type SecretCounts = Record<SecretKind, number>

/** How many secrets one key id seals. */
export interface KeyUsage extends SecretCounts {
  keyId: string
  inKeyring: boolean
  active: boolean
  total: number
}

/** What `GET /api/admin/keys` answers: never key material, only key ids and counts. */
export interface KeyStatus {
  activeKeyId: string
  /** The keyring's key ids, active first. */
  keyIds: string[]
  /** Every key id of the keyring, then every key id the catalog still uses that the keyring lacks. */
  keys: KeyUsage[]
  /** Backups taken before control-migrations/0011 whose data key the catalog has not recorded yet (a rotation reads it). */
  unrecordedBackupKeys: number
  /** Key ids of the keyring, other than the active one, that seal nothing any more. */
  removableKeyIds: string[]
}

const kindOfTable: Record<string, SecretKind> = { tenants: 'tenantPasswords', db_hosts: 'hostPasswords', backups: 'backupKeys' }

export function emptyCounts(): SecretCounts {
  return { tenantPasswords: 0, hostPasswords: 0, backupKeys: 0, otherSecrets: 0 }
}

/**
 * Every `*_sealed` column of the catalog, found in information_schema rather than listed
 * here: a migration that adds a sealed column (a pending tenant password during credential
 * rotation) is counted and rotated without anyone remembering to add it.
 */
export async function sealedColumns(catalog: CatalogDb): Promise<SealedColumn[]> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    select c.table_name, c.column_name
      from information_schema.columns c
     where c.table_schema = current_schema()
       and c.column_name like '%\\_sealed'
       and c.data_type = 'text'
       and exists (select 1 from information_schema.columns k
                    where k.table_schema = c.table_schema and k.table_name = c.table_name and k.column_name = 'id')
     order by c.table_name, c.column_name`.execute(catalog)
  return rows.map((r) => ({ table: r.table_name, column: r.column_name, kind: kindOfTable[r.table_name] ?? 'otherSecrets' }))
}

/** Backups whose data key only their file's header holds: completed before 0011 recorded it. */
export async function countUnrecordedBackupKeys(catalog: CatalogDb): Promise<number> {
  const row = await catalog
    .selectFrom('backups')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('data_key_sealed', 'is', null)
    .where('state', 'in', ['completed', 'verified'])
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/**
 * Counts every sealed secret of the catalog by the key id that sealed it.
 *
 * @example
 *   const status = await keyStatus(catalog, sealer)
 *   status.keys  // [{ keyId: 'k2', active: true, tenantPasswords: 3, ... }, { keyId: 'k1', ... }]
 */
export async function keyStatus(catalog: CatalogDb, sealer: SecretSealer): Promise<KeyStatus> {
  const byKid = new Map<string, SecretCounts>()
  for (const kid of sealer.keyIds) byKid.set(kid, emptyCounts())
  for (const { table, column, kind } of await sealedColumns(catalog)) {
    const { rows } = await sql<{ kid: string; n: number }>`
      select split_part(${sql.ref(column)}, ':', 2) as kid, count(*)::int as n
        from ${sql.table(table)} where ${sql.ref(column)} like 'v1:%' group by 1`.execute(catalog)
    for (const { kid, n } of rows) {
      const counts = byKid.get(kid) ?? emptyCounts()
      counts[kind] += n
      byKid.set(kid, counts)
    }
  }
  const keys = [...byKid].map(([keyId, counts]): KeyUsage => ({
    keyId,
    inKeyring: sealer.hasKey(keyId),
    active: keyId === sealer.activeKeyId,
    ...counts,
    total: counts.tenantPasswords + counts.hostPasswords + counts.backupKeys + counts.otherSecrets,
  }))
  const unrecordedBackupKeys = await countUnrecordedBackupKeys(catalog)
  return {
    activeKeyId: sealer.activeKeyId,
    keyIds: sealer.keyIds,
    keys,
    unrecordedBackupKeys,
    // A backup whose key only its header holds may be sealed by any old key: none is removable yet.
    removableKeyIds: unrecordedBackupKeys > 0 ? [] : keys.filter((k) => k.inKeyring && !k.active && k.total === 0).map((k) => k.keyId),
  }
}

const nouns: Record<SecretKind, [string, string]> = {
  tenantPasswords: ['tenant password', 'tenant passwords'],
  hostPasswords: ['db host password', 'db host passwords'],
  backupKeys: ['backup data key', 'backup data keys'],
  otherSecrets: ['other secret', 'other secrets'],
}

/** "3 tenant passwords and 1 db host password" */
export function describeCounts(counts: SecretCounts): string {
  const parts = (Object.keys(nouns) as SecretKind[]).filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${nouns[k][counts[k] === 1 ? 0 : 1]}`)
  return parts.length <= 1 ? (parts[0] ?? 'no secrets') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`
}

/**
 * The start-up check: every secret of the catalog must be sealed by a key id of the keyring,
 * else tenantd stops with one line naming the missing id (`keySource` says where the keyring
 * came from: TENANTD_MASTER_KEY, or the embedded key file).
 *
 * @example
 *   await assertKeyringComplete(catalog.db, sealer, 'TENANTD_MASTER_KEY')
 *   // StartupError: 3 tenant passwords and 1 db host password are sealed by key id k1, which ...
 */
export async function assertKeyringComplete(catalog: CatalogDb, sealer: SecretSealer, keySource: string): Promise<void> {
  const missing = (await keyStatus(catalog, sealer)).keys.filter((k) => !k.inKeyring && k.total > 0)
  if (missing.length === 0) return
  const total = emptyCounts()
  for (const key of missing) for (const kind of Object.keys(total) as SecretKind[]) total[kind] += key[kind]
  const ids = missing.map((k) => k.keyId).join(', ')
  const many = missing.length > 1
  const sum = total.tenantPasswords + total.hostPasswords + total.backupKeys + total.otherSecrets
  throw new StartupError(
    `${describeCounts(total)} ${sum === 1 ? 'is' : 'are'} sealed by key id${many ? 's' : ''} ${ids}, which ${keySource} does not have; ` +
      `add ${ids} back to ${keySource} (after the active key ${sealer.activeKeyId}), then run \`tenantctl keys rotate\``
  )
}
