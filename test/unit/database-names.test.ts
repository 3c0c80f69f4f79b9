import t from 'tap'
import { restoreDatabaseNames, undoneDatabaseName } from '../../src/backups/database-swap.js'
import { stampedDatabaseName } from '../../src/hosts/database-names.js'
import { keptDatabaseName } from '../../src/moves/move-database.js'

// Names of the databases operations set aside. A swap, its revert and an undo read where
// they stand from which names exist on the host, so an operation's names must be its own:
// two restores of one tenant in the same second once shared `<db>_pre_restore_<second>`,
// and rolling back the second swapped the first one's kept database in, dropping the live one.

const at = new Date('2026-12-07T16:50:38.123Z')

t.test('two restores of one tenant in the same second get names of their own', async (t) => {
  const first = restoreDatabaseNames('tenant_steps', at)
  const second = restoreDatabaseNames('tenant_steps', at)
  t.not(first.previous, second.previous, 'kept databases differ')
  t.not(first.restored, second.restored, 'restored databases differ')
  t.match(first.previous, /^tenant_steps_pre_restore_20261207165038_[0-9a-f]{6}$/, 'the time for people, then the tag')
  t.equal(first.restored.split('_').pop(), first.previous.split('_').pop(), "a restore's two names share one tag")
  t.not(undoneDatabaseName('tenant_steps', at), undoneDatabaseName('tenant_steps', at), 'undos too')
  t.not(keptDatabaseName('tenant_steps', at), keptDatabaseName('tenant_steps', at), 'moves too')
  t.match(keptDatabaseName('tenant_steps', at), /^tenant_steps_moved_20261207165038_[0-9a-f]{6}$/)
})

t.test("a long tenant name is shortened to fit PostgreSQL's 63 bytes; the suffix never is", async (t) => {
  const long = `tenant_${'x'.repeat(56)}`
  for (const label of ['pre_restore', 'restoring', 'undone', 'moved']) {
    const name = stampedDatabaseName(long, label, at, 'abc123')
    t.equal(Buffer.byteLength(name), 63, `${label}: 63 bytes`)
    t.ok(name.endsWith(`_${label}_20261207165038_abc123`), `${label}: suffix whole`)
  }
  t.equal(stampedDatabaseName('tenant_ä', 'moved', at, 'abc123'), 'tenant_ä_moved_20261207165038_abc123', 'short names are kept as they are')
})
