import t from 'tap'
import { cliEnv, credentialsFixture, runTenantctl, startStub } from '../cli/cli-harness.js'

// `tenantctl migrate` against a stub tenantd: starts a run, follows it, prints the summary
// and fails (exit 1, with the retry hint) when a tenant failed; `migrate status` the matrix.

const runId = '5d0f7c1e-0000-4000-8000-000000000001'
const tenantRow = (slug: string, status: string, extra: Record<string, unknown> = {}) => ({
  tenantId: `id-${slug}`,
  slug,
  status,
  applied: status === 'succeeded' ? ['base/0002_add_audit_column.sql'] : [],
  drift: [],
  pending: [],
  error: null,
  durationMs: 12,
  ...extra,
})
const runBody = (status: string, tenants: ReturnType<typeof tenantRow>[], error: string | null = null) => {
  const count = (s: string) => tenants.filter((r) => r.status === s).length
  return {
    id: runId,
    operationId: 'op-9',
    status,
    dryRun: false,
    options: { concurrency: 4, canary: 0, dryRun: false },
    totals: { total: tenants.length, succeeded: count('succeeded'), failed: count('failed'), skipped: count('skipped'), pending: count('pending') + count('running') },
    error,
    createdBy: null,
    createdAt: '2024-05-01T12:30:00.000Z',
    finishedAt: status === 'running' ? null : '2024-05-01T12:31:00.000Z',
    tenants,
  }
}

t.test('migrate: follows the run, shows failed rows of a big fleet, exits 1 with the retry hint', async (t) => {
  const finalRows = Array.from({ length: 30 }, (_, i) => tenantRow(`t${i + 1}`, 'succeeded'))
  finalRows[6] = tenantRow('t7', 'failed', { error: 'migration base/0002_add_audit_column.sql failed: relation "notes" already exists' })
  finalRows[9] = tenantRow('t10', 'succeeded', { drift: ['base/0001_base.sql'] })
  const error = `1 of 30 tenants failed: t7 — fix them and run \`tenantctl migrate --retry-failed ${runId}\``
  const stub = await startStub(t, {
    'POST /api/admin/migrations/run': { status: 202, body: { runId, operationId: 'op-9' } },
    [`GET /api/admin/migrations/runs/${runId}`]: (_req, hit) =>
      hit === 1 ? { body: runBody('running', finalRows.map((r, i) => (i < 10 ? r : { ...r, status: 'pending' }))) } : { body: runBody('failed', finalRows, error) },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const result = await runTenantctl(['migrate', '--tenants', 'a,b', '--concurrency', '8', '--canary', '2'], { env })
  t.equal(result.code, 1, result.stderr)
  t.same(stub.calls('POST /api/admin/migrations/run')[0]?.body, { tenants: ['a', 'b'], concurrency: 8, canary: 2 })
  t.match(result.stderr, /10\/30 tenants, 1 failed/, 'progress shows done/total and the failed count')
  t.match(result.stdout, /SLUG\s+STATUS\s+APPLIED\s+DRIFT\s+ERROR/)
  t.match(result.stdout, /t7\s+failed\s+-\s+-\s+migration base\/0002_add_audit_column\.sql failed/)
  t.match(result.stdout, /t10\s+succeeded\s+base\/0002_add_audit_column\.sql\s+base\/0001_base\.sql/)
  t.notMatch(result.stdout, /^t1 /m, 'plain succeeded rows are left out of a big fleet')
  t.match(result.stdout, /28 succeeded tenants without drift not shown/)
  t.match(result.stdout, /30 tenants, 29 succeeded, 1 failed, 0 skipped, 1 with drift/)
  t.match(result.stderr, `hint: tenantctl migrate --retry-failed ${runId}`)

  const all = await runTenantctl(['migrate', 'show', runId, '--all'], { env })
  t.match(all.stdout, /^t1\s+succeeded/m, '--all lists every tenant')
})

t.test('migrate --retry-failed: a clean run exits 0', async (t) => {
  const stub = await startStub(t, {
    'POST /api/admin/migrations/run': { status: 202, body: { runId, operationId: 'op-10' } },
    [`GET /api/admin/migrations/runs/${runId}`]: { body: runBody('succeeded', [tenantRow('t7', 'succeeded')]) },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const result = await runTenantctl(['migrate', '--retry-failed', runId, '--dry-run'], { env })
  t.equal(result.code, 0, result.stderr)
  t.same(stub.calls('POST /api/admin/migrations/run')[0]?.body, { dryRun: true, retryFailedOf: runId })
  t.match(result.stdout, /✓ Every tenant is up to date/)
})

t.test('migrate status: the matrix with symbols, and exit 1 when a database is unreachable', async (t) => {
  const migrations = ['base/0001_base.sql', 'base/0002_add_audit_column.sql', 'crm/0001_crm.sql']
  const stub = await startStub(t, {
    'GET /api/admin/migrations/status': {
      body: {
        migrations,
        tenants: [
          { id: '1', slug: 'acme', hostName: 'h', cells: { [migrations[0]!]: 'applied', [migrations[1]!]: 'pending', [migrations[2]!]: 'not_installed' } },
          { id: '2', slug: 'globex', hostName: 'h', cells: { [migrations[0]!]: 'drift', [migrations[1]!]: 'applied', [migrations[2]!]: 'applied' } },
          { id: '3', slug: 'initech', hostName: 'h', cells: Object.fromEntries(migrations.map((m) => [m, 'error'])), error: 'connection refused' },
        ],
        summary: { tenants: 3, upToDate: 0, withPending: 1, withDrift: 1, withErrors: 1, cells: {} },
      },
    },
  })
  const { env } = cliEnv(t, stub, { credentials: credentialsFixture(stub.url) })
  const result = await runTenantctl(['migrate', 'status', '--tenants', 'acme,globex,initech'], { env })
  t.equal(result.code, 1)
  t.equal(stub.requests[0]?.query.get('tenants'), 'acme,globex,initech')
  t.match(result.stdout, /SLUG\s+base\/0001\s+base\/0002\s+crm\/0001/)
  t.match(result.stdout, /acme\s+✓\s+·\s+–/)
  t.match(result.stdout, /globex\s+!\s+✓\s+✓/)
  t.match(result.stdout, /initech\s+✗\s+✗\s+✗/)
  t.match(result.stdout, /✗ initech: connection refused/)
})
