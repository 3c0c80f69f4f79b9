import { useState } from 'preact/hooks'
import { api, tenantPath } from '../../api/api-client.js'
import type { Backup, BackupCheck, CloneStarted, Operation, OperationStarted, Page, RestoreList, Tenant } from '../../api/api-types.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { EmptyState, Loading, Notice } from '../../components/feedback.js'
import { OperationProgress } from '../../components/operation-progress.js'
import { formatDate } from '../../format.js'
import { useApi } from '../../hooks/use-api.js'
import { Link, basePath } from '../../router/router.js'
import { BackupHistoryChart } from './backup-history-chart.js'
import { BackupTable } from './backup-table.js'
import { CloneDialog, RestoreDialog, UndoRestoreDialog } from './backup-dialogs.js'
import { TenantExportButton } from './tenant-export-button.js'

/** The operation this section started and follows; a clone names the new tenant. */
type Running = { kind: 'backup' | 'restore' | 'undo'; operationId: string; backup?: Backup } | { kind: 'clone'; operationId: string; backup: Backup; clone: Tenant }
type Dialog = { kind: 'restore' | 'clone'; backup: Backup } | { kind: 'undo' }

/**
 * Backups of the tenant database, newest first, with their sizes as a chart: "Back up now",
 * and on each backup verify, restore (typed confirmation) and clone as a new tenant; undo of
 * the last restore; export. Each operation is followed live and ends with its result.
 */
export function TenantBackups({ tenant, canManage, onChanged }: { tenant: Tenant; canManage: boolean; onChanged(): void }) {
  const list = useApi<Page<Backup>>(tenantPath(tenant.slug, '/backups'), { limit: 30 })
  // Undo is offered while the last restore's kept database is still there (GET .../restores says so).
  const restores = useApi<RestoreList>(canManage ? tenantPath(tenant.slug, '/restores') : null)
  const [running, setRunning] = useState<Running | undefined>(undefined)
  const [outcome, setOutcome] = useState<Operation | undefined>(undefined)
  const [dialog, setDialog] = useState<Dialog | undefined>(undefined)
  const [verifying, setVerifying] = useState<string | undefined>(undefined)
  const [check, setCheck] = useState<BackupCheck | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const busy = running !== undefined && outcome === undefined

  const follow = (next: Running) => {
    setRunning(next)
    setOutcome(undefined)
    setCheck(undefined)
    setError(undefined)
  }
  const backUp = async () => {
    setError(undefined)
    try {
      const started = await api.post<OperationStarted>(tenantPath(tenant.slug, '/backups'))
      follow({ kind: 'backup', operationId: started.operationId })
      list.reload()
    } catch (failure) {
      setError(failure)
    }
  }
  const verify = async (backup: Backup) => {
    setVerifying(backup.id)
    setCheck(undefined)
    setError(undefined)
    try {
      setCheck(await api.post<BackupCheck>(tenantPath(tenant.slug, `/backups/${encodeURIComponent(backup.id)}/verify`)))
      list.reload()
      onChanged()
    } catch (failure) {
      setError(failure)
    } finally {
      setVerifying(undefined)
    }
  }
  const finished = (operation: Operation) => {
    setOutcome(operation)
    list.reload()
    restores.reload()
    onChanged()
  }

  const items = list.data?.items ?? []
  const lastRestore = restores.data?.items[0]
  const canUndo = canManage && lastRestore?.undoable === true
  return (
    <section class="card" aria-labelledby="backups-title">
      <div class="card-header">
        <h2 id="backups-title">Backups</h2>
        <div class="page-actions">
          <TenantExportButton tenant={tenant} onError={setError} />
          {canUndo && (
            <button type="button" class="button button-small" onClick={() => setDialog({ kind: 'undo' })} disabled={busy}>
              Undo last restore
            </button>
          )}
          {canManage && (
            <button type="button" class="button button-primary button-small" onClick={backUp} disabled={busy}>
              Back up now
            </button>
          )}
        </div>
      </div>
      {lastRestore && (
        <p class="muted small">
          Last restore {formatDate(lastRestore.restoredAt)}:{' '}
          {lastRestore.undoable ? (
            <>
              the database it replaced is kept until {formatDate(lastRestore.keptUntil)}, so it can be undone until then.
            </>
          ) : lastRestore.previousDroppedAt ? (
            <>the database it replaced was dropped {formatDate(lastRestore.previousDroppedAt)}; it can no longer be undone.</>
          ) : (
            <>it can no longer be undone.</>
          )}
        </p>
      )}
      <ErrorBanner error={error} />
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {check && <CheckResult check={check} />}
      {running && (
        <div class="card-inset">
          <OperationProgress key={running.operationId} operationId={running.operationId} onFinished={finished} />
          {outcome?.status === 'succeeded' && <Outcome running={running} tenant={tenant} />}
        </div>
      )}
      {!list.data && list.loading && <Loading what="backups" />}
      {list.data && items.length === 0 && <EmptyState title="No backups yet.">Scheduled backups run by plan; "Back up now" takes one at once.</EmptyState>}
      {items.length > 0 && (
        <>
          <BackupHistoryChart backups={items} />
          <BackupTable
            items={items}
            canManage={canManage}
            busy={busy}
            verifying={verifying}
            onVerify={verify}
            onRestore={(backup) => setDialog({ kind: 'restore', backup })}
            onClone={(backup) => setDialog({ kind: 'clone', backup })}
          />
        </>
      )}
      {dialog?.kind === 'restore' && (
        <RestoreDialog tenant={tenant} backup={dialog.backup} onStarted={(s) => follow({ kind: 'restore', operationId: s.operationId, backup: dialog.backup })} onClose={() => setDialog(undefined)} />
      )}
      {dialog?.kind === 'clone' && (
        <CloneDialog tenant={tenant} backup={dialog.backup} onStarted={(s) => follow({ kind: 'clone', operationId: s.operationId, backup: dialog.backup, clone: s.tenant })} onClose={() => setDialog(undefined)} />
      )}
      {dialog?.kind === 'undo' && <UndoRestoreDialog tenant={tenant} onStarted={(s) => follow({ kind: 'undo', operationId: s.operationId })} onClose={() => setDialog(undefined)} />}
    </section>
  )
}

/** What a verify found: the file is whole, or why it is not (the backup is then marked failed). */
function CheckResult({ check }: { check: BackupCheck }) {
  const when = formatDate(check.backup.createdAt)
  if (check.ok) return <Notice>The backup of {when} was read back and verified: checksum, every record decrypted, pg_restore can read it.</Notice>
  return (
    <div class="banner banner-error" role="alert">
      <div class="banner-body">
        <p class="banner-message">The backup of {when} is damaged: {check.reason}</p>
        <p class="banner-hint">It is marked failed and no longer offered for restore; take a new backup.</p>
      </div>
    </div>
  )
}

/** The result of a succeeded operation, in words, with where to go next. */
function Outcome({ running, tenant }: { running: Running; tenant: Tenant }) {
  if (running.kind === 'clone') {
    const href = `${basePath}/tenants/${encodeURIComponent(running.clone.slug)}`
    return (
      <Notice>
        <p>
          {running.clone.name} is active, filled from the backup of {formatDate(running.backup.createdAt)}. <Link href={href}>Open {running.clone.name}</Link>
        </p>
      </Notice>
    )
  }
  if (running.kind === 'backup') return <Notice>Backed up, stored and verified.</Notice>
  if (running.kind === 'undo') return <Notice>The last restore was undone: {tenant.name} is back on the database it had before; the one it replaced is kept.</Notice>
  return (
    <Notice>
      Restored the backup of {formatDate(running.backup?.createdAt)}: row counts matched and {tenant.name} runs on it. The previous database is kept for undo.
    </Notice>
  )
}
