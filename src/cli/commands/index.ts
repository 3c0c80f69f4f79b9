import type { CommandEntry } from '../command.js'
import { audit } from './audit-commands.js'
import { authCommands } from './auth-commands.js'
import { hostsGroup } from './host-commands.js'
import { modulesGroup } from './module-commands.js'
import { migrateGroup } from './migrate-commands.js'
import { operatorsGroup } from './operator-commands.js'
import { opsGroup } from './ops-commands.js'
import { stats } from './stats-commands.js'
import { create } from './tenant-create.js'
import { tenantLifecycle } from './tenant-lifecycle.js'
import { tenantQueries } from './tenant-queries.js'
import { usersGroup } from './user-commands.js'
import { edgeGroup } from './edge-commands.js'
import { domainsGroup } from './domain-commands.js'
import { update } from './tenant-update.js'
import { backupGroup, restore } from './backup-commands.js'
import { exportCommands } from './export-commands.js'
import { plansGroup } from './plan-commands.js'
import { keysGroup } from './key-commands.js'
import { rotateCredentials } from './credential-commands.js'
import { move } from './move-commands.js'
import { branding } from './branding-commands.js'

/**
 * Every tenantctl command, in the order `--help` lists them. A new command group
 * (modules, migrate, backup, ...) is one new file in this folder and one line here.
 */
export const commands: CommandEntry[] = [
  ...authCommands,
  create,
  ...tenantQueries,
  stats,
  ...tenantLifecycle,
  update,
  branding,
  rotateCredentials,
  move,
  opsGroup,
  hostsGroup,
  plansGroup,
  keysGroup,
  modulesGroup,
  domainsGroup,
  edgeGroup,
  migrateGroup,
  backupGroup,
  restore,
  ...exportCommands,
  usersGroup,
  operatorsGroup,
  audit,
]
