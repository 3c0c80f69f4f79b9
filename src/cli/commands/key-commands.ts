import type { Operation } from '../api-types.js'
import type { Command, CommandGroup } from '../command.js'
import { watchOperation } from '../operation-watch.js'
import type { Output } from '../output.js'
import type { Column } from '../table-format.js'

interface KeyUsage {
  keyId: string
  inKeyring: boolean
  active: boolean
  tenantPasswords: number
  hostPasswords: number
  backupKeys: number
  otherSecrets: number
  total: number
}

interface KeyStatus {
  activeKeyId: string
  keyIds: string[]
  keys: KeyUsage[]
  unrecordedBackupKeys: number
  removableKeyIds: string[]
}

const yesNo = (value: boolean) => (value ? 'yes' : 'no')
const secrets = (n: number) => `${n} secret${n === 1 ? '' : 's'}`

const keyColumns: Column<KeyUsage>[] = [
  { header: 'KEY ID', value: (k) => k.keyId },
  { header: 'IN KEYRING', value: (k) => yesNo(k.inKeyring) },
  { header: 'ACTIVE', value: (k) => yesNo(k.active) },
  { header: 'TENANT PASSWORDS', value: (k) => k.tenantPasswords, alignRight: true },
  { header: 'HOST PASSWORDS', value: (k) => k.hostPasswords, alignRight: true },
  { header: 'BACKUP KEYS', value: (k) => k.backupKeys, alignRight: true },
]

/** The table and one line per old key id: removable now, or what it still seals. */
function printStatus(out: Output, status: KeyStatus): void {
  out.table(status.keys, keyColumns)
  const others = status.keys.filter((k) => !k.active && k.otherSecrets > 0)
  for (const k of others) out.line(`Key id ${k.keyId} also seals ${k.otherSecrets} other sealed values.`)
  const old = status.keys.filter((k) => !k.active)
  if (status.unrecordedBackupKeys > 0) {
    out.line(`${status.unrecordedBackupKeys} older backups have their data key only in their file header; run \`tenantctl keys rotate\` to record it before removing any old key id.`)
  }
  const pending = old.filter((k) => k.total > 0)
  for (const k of pending) {
    out.line(
      k.inKeyring
        ? `Key id ${k.keyId} still seals ${secrets(k.total)}: keep it in TENANTD_MASTER_KEY and run \`tenantctl keys rotate\`.`
        : `Key id ${k.keyId} seals ${secrets(k.total)} but TENANTD_MASTER_KEY lacks it: add it back (after the active key), then run \`tenantctl keys rotate\`.`
    )
  }
  if (status.removableKeyIds.length > 0) {
    out.success(`Key id${status.removableKeyIds.length > 1 ? 's' : ''} ${status.removableKeyIds.join(', ')} seal${status.removableKeyIds.length > 1 ? '' : 's'} nothing any more: remove ${status.removableKeyIds.length > 1 ? 'them' : 'it'} from TENANTD_MASTER_KEY and restart every replica.`)
  } else if (pending.length === 0 && status.unrecordedBackupKeys === 0) {
    out.line(`Every secret is sealed by the active key id ${status.activeKeyId}; no old key id to remove.`)
  }
}

/** `tenantctl keys status`: how many secrets each key id seals, and whether an old one can go. */
export const keysStatus: Command = {
  name: 'status',
  summary: 'Show how many secrets each master key id seals, and whether an old id can be removed',
  async run({ api, out }) {
    const { body } = await api.request<KeyStatus>('GET', '/api/admin/keys')
    if (out.json) return out.printJson(body)
    printStatus(out, body)
  },
}

/** `tenantctl keys rotate [--batch-size n]`: re-seal everything under the active key id, with a progress bar. */
export const keysRotate: Command = {
  name: 'rotate',
  summary: 'Re-seal every secret under the active (first) key id of TENANTD_MASTER_KEY',
  options: {
    'batch-size': { type: 'string', valueName: 'n', description: 'secrets re-sealed per transaction (default 100)' },
  },
  details: 'Put the new key first in TENANTD_MASTER_KEY and restart every replica before rotating. Safe to run again: it resumes where it stopped.',
  async run({ api, out }, input) {
    const { body: started } = await api.request<{ operationId: string }>('POST', '/api/admin/keys/rotate', { query: { batchSize: input.integer('batch-size', 1) } })
    if (!out.json) out.note(`Key rotation (operation ${started.operationId})`)
    const operation: Operation = await watchOperation(api, out, started.operationId)
    const { body: status } = await api.request<KeyStatus>('GET', '/api/admin/keys')
    if (out.json) return out.printJson({ operation, status })
    printStatus(out, status)
    out.success(`Every secret is now sealed by key id ${status.activeKeyId}`)
  },
}

export const keysGroup: CommandGroup = {
  name: 'keys',
  summary: 'Master key rotation: status per key id, re-seal under the active id',
  commands: [keysStatus, keysRotate],
  defaultCommand: 'status',
}
