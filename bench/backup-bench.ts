/**
 * `npm run bench:backup` (issue 8): what tenantd's backups cost against runbook 003's loop.
 *
 * 1. One throwaway cluster (embedded PostgreSQL 15, SCRAM, random port, fsync off) and tenantd
 *    over it (bench/bench-cluster.ts), backups to a temp directory. BENCH_BACKUP_TENANTS
 *    tenants (default 50) are provisioned and filled: one table `bench_events` (text and
 *    jsonb, md5-derived so it compresses like real rows, about 2:1), ~3 MB in most tenants and
 *    ~20 MB in every tenth (BENCH_BACKUP_SCALE multiplies both).
 * 2. Per round (BENCH_BACKUP_ROUNDS, default 2), batch after batch of BENCH_BACKUP_BATCH
 *    databases (default 10), three runners take turns (the order rotates from batch to batch, so
 *    load from elsewhere on a shared machine lands on all three alike):
 *      loop   bench/backup-loop.sh: `pg_dump <db> | gzip -6 > <db>.sql.gz`, one after another
 *      c=1    tenantd, one backup at a time: the backup operation's dumpDatabase step (pg_dump
 *             -Fc as the tenant role → AES-256-GCM → SHA-256 → file, synced and renamed, catalog
 *             row), then, timed apart, its verifyBackup step (read back, checksum, decrypt,
 *             pg_restore --list)
 *      c=2    the same with two backups at a time
 *    Wall times and CPU seconds (this process, its children, the server's exited backends),
 *    bytes written, tenantd/loop at c=1 and loop/tenantd at c=2, and this process's RSS
 *    (tenantd runs in it) sampled every 50 ms while tenantd exports.
 * 3. Restore, for the BENCH_BACKUP_RESTORES largest tenants (default 5): tenantd's restore path
 *    (storage → SHA-256 → decrypt → pg_restore --single-transaction into a new database, as the
 *    restore operation's restoreDatabase step runs it) against a bare pg_restore, same flags,
 *    of the same -Fc file in plaintext on disk, into another new database. Alternated, and
 *    BENCH_BACKUP_RESTORE_REPEATS times each (default 5; the median counts): one restore of a
 *    few MB takes about 0.4 s, and a single pair of them moved the ratio by ±0.4 on a quiet VM.
 *
 * Goals: c=1 ≤ 1.05× the loop; c=2 ≥ 1.6× faster than the loop; restore ≤ 1.1× bare
 * pg_restore; RSS flat. Missing a goal prints MISSED, exit code stays 0; a failure exits 1.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import os, { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import pg, { escapeIdentifier } from 'pg'
import { createBackupDecryptor } from '../src/backups/backup-cipher.js'
import { backupHandler, type BackupParams } from '../src/backups/backup-operation.js'
import { streamBackupToPgRestore } from '../src/backups/backup-reader.js'
import { BackupRecords } from '../src/backups/backup-records.js'
import { BackupTargets } from '../src/backups/backup-targets.js'
import type { OperationRow } from '../src/catalog/catalog-schema.js'
import type { StepContext } from '../src/operations/operation-runner.js'
import type { TenantRecord } from '../src/tenancy/tenant-directory.js'
import { tenantClientConfig } from '../src/tenancy/tenant-connection.js'
import { benchMain, median, startBenchTenantd } from './bench-cluster.js'

const TENANTS = Number(process.env.BENCH_BACKUP_TENANTS ?? 50)
const SCALE = Number(process.env.BENCH_BACKUP_SCALE ?? 1)
const ROUNDS = Number(process.env.BENCH_BACKUP_ROUNDS ?? 2)
const BATCH = Number(process.env.BENCH_BACKUP_BATCH ?? 10)
const RESTORES = Number(process.env.BENCH_BACKUP_RESTORES ?? 5)
const RESTORE_REPEATS = Math.max(1, Number(process.env.BENCH_BACKUP_RESTORE_REPEATS ?? 5))
const PG_BIN = process.env.TENANTD_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin'
/** About 250 bytes per row on disk (heap, without the primary key index). */
const ROWS_PER_MB = 4_000

const say = (line = '') => process.stdout.write(`${line}\n`)
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1)
const load = () => os.loadavg().map((n) => n.toFixed(2)).join(', ')

async function run(teardowns: Array<() => unknown>): Promise<void> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'tenantd-backup-bench-'))
  teardowns.push(() => rm(scratch, { recursive: true, force: true }))
  const bench = await startBenchTenantd({
    maxConnections: 200,
    env: { TENANTD_BACKUP_STORAGE: `file://${path.join(scratch, 'tenantd')}`, TENANTD_PG_BIN_DIR: PG_BIN },
  })
  teardowns.push(() => bench.cleanup())
  const { tenantd, cluster, config } = bench
  const gzipVersion = (await execa('gzip', ['--version'])).stdout.split('\n')[0]
  say(`bench:backup on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`)
  say(`pg_dump ${(await execa(path.join(PG_BIN, 'pg_dump'), ['--version'])).stdout.replace(/^\S+ \(PostgreSQL\) /, '')}, ${gzipVersion}; server PostgreSQL 15 (embedded, fsync off)`)
  say(`machine load before the bench (1, 5, 15 min): ${load()}`)

  // --- tenants and their data -------------------------------------------------------------
  let t0 = performance.now()
  const tenants = await bench.provisionMany(TENANTS, { plan: 'free', prefix: 'bk', concurrency: 4 })
  say(`provisioned ${TENANTS} tenants in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const large = (i: number) => i % 10 === 9
  t0 = performance.now()
  let next = 0
  const sizes = new Map<string, number>()
  const fill = async () => {
    for (;;) {
      const i = next++
      if (i >= TENANTS) return
      const tenant = tenants[i]!
      const rows = Math.max(100, Math.round((large(i) ? 20 : 3) * SCALE * ROWS_PER_MB))
      const { rows: size } = await cluster.query<{ n: string }>(
        `create table bench_events (id bigint primary key, created_at timestamptz not null, kind text not null, body text not null, payload jsonb not null);
         insert into bench_events
           select i, timestamptz '2026-01-01' + i * interval '37 seconds', (array['order', 'invoice', 'login', 'note'])[1 + i % 4],
                  md5(i::text) || ' ' || md5((i * 7)::text) || md5((i * 13)::text),
                  jsonb_build_object('n', i, 'tag', md5((i * 3)::text), 'ok', i % 2 = 0, 'qty', i % 97)
             from generate_series(1, ${rows}) i;
         alter table bench_events owner to ${escapeIdentifier(tenant.role_name)};`,
        [],
        tenant.database_name
      ).then(() => cluster.query('vacuum analyze bench_events', [], tenant.database_name))
        .then(() => cluster.query<{ n: string }>(`select pg_total_relation_size('bench_events') as n`, [], tenant.database_name))
      sizes.set(tenant.id, Number(size[0]!.n))
    }
  }
  await Promise.all([fill(), fill()])
  const totalData = [...sizes.values()].reduce((a, b) => a + b, 0)
  const largeCount = tenants.filter((_, i) => large(i)).length
  say(
    `filled in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${TENANTS - largeCount} tenants of ~${mb(sizes.get(tenants[0]!.id)!)} MB and ${largeCount} of ~${largeCount ? mb(sizes.get(tenants[9]!.id)!) : '0'} MB (table + index), ${mb(totalData)} MB in all`
  )
  await cluster.query('checkpoint')

  // --- tenantd's backup operation, step by step -------------------------------------------
  const records = new BackupRecords(tenantd.catalog.db)
  const targets = new BackupTargets(config.backupStorage)
  teardowns.push(() => targets.close())
  const handler = backupHandler({ catalog: tenantd.catalog.db, tenants: tenantd.tenants, records, targets, sealer: tenantd.sealer, pgBinDir: config.pgBinDir })
  const [dumpStep, verifyStep] = handler.steps
  // The bench runs the backup operation's steps itself, timed apart. Stop the runner's sweeper,
  // which would otherwise start the pending operations (20 at a time) behind the timing's back.
  await tenantd.operations.stop()
  const contextOf = (operation: OperationRow, backupId: string): StepContext<BackupParams> => ({ operation, params: { backupId }, log: tenantd.log, progress: async () => {} })

  // CPU seconds of a variant: this process (tenantd and the bench), its reaped children
  // (pg_dump, pg_restore; bash with pg_dump and gzip) and the server's exited backends (the
  // postmaster reaps them). Wall time on a shared machine moves with everyone else's load;
  // CPU time much less.
  const clockTicks = Number((await execa('getconf', ['CLK_TCK'])).stdout) || 100
  const probe = new pg.Client({ connectionString: cluster.url() })
  await probe.connect()
  const backendPid = (await probe.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid
  const postmasterPid = await readFile(`/proc/${backendPid}/stat`, 'utf8').then((stat) => stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]!)
  await probe.end()
  const ticks = async (pid: string | number, fields: number[]) => {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields.reduce((a, i) => a + Number(f[i - 3]), 0) / clockTicks
  }
  const cpuNow = async () => {
    const own = process.cpuUsage()
    // /proc/<pid>/stat fields 16, 17: cutime, cstime (children waited for).
    return [(own.user + own.system) / 1e6, await ticks(process.pid, [16, 17]), await ticks(postmasterPid, [16, 17])] as const
  }
  /** Wall seconds and CPU seconds; `parts`: [this process, its children, server backends]. */
  const measure = async <T>(fn: () => Promise<T>) => {
    const cpu0 = await cpuNow()
    const started = performance.now()
    const value = await fn()
    const seconds = (performance.now() - started) / 1000
    const cpu1 = await cpuNow()
    const parts = cpu1.map((v, i) => v - cpu0[i]!)
    return { value, seconds, cpu: parts.reduce((a, b) => a + b, 0), parts }
  }

  const loopScript = fileURLToPath(new URL('./backup-loop.sh', import.meta.url))
  const runLoop = async (batch: TenantRecord[], dir: string) => {
    const { seconds, cpu, parts } = await measure(() =>
      execa('bash', [loopScript], {
        extendEnv: false,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          BACKUP_DATABASES: batch.map((t) => t.database_name).join(' '),
          BACKUP_DIR: dir,
          PGHOST: '127.0.0.1',
          PGPORT: String(cluster.port),
          PGUSER: 'postgres',
          PGPASSWORD: cluster.superuserPassword,
          PG_DUMP: path.join(PG_BIN, 'pg_dump'),
        },
      })
    )
    let bytes = 0
    for (const name of await readdir(dir)) bytes += (await stat(path.join(dir, name))).size
    await rm(dir, { recursive: true, force: true })
    return { seconds, cpu, parts, bytes }
  }

  const runTenantd = async (batch: TenantRecord[], concurrency: number) => {
    const jobs: Array<{ tenantId: string; operation: OperationRow; backupId: string }> = []
    for (const tenant of batch) {
      const { operation, backup } = await tenantd.backups.requestBackup(tenant.id)
      jobs.push({ tenantId: tenant.id, operation, backupId: backup.id })
    }
    const pool = (step: (job: (typeof jobs)[number]) => Promise<void>) =>
      measure(async () => {
        let i = 0
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            for (let j = i++; j < jobs.length; j = i++) await step(jobs[j]!)
          })
        )
      })
    const rss = sampleRss()
    const write = await pool((job) => dumpStep!.run(contextOf(job.operation, job.backupId)))
    const memory = rss.stop()
    const verify = await pool((job) => verifyStep!.run(contextOf(job.operation, job.backupId)))
    let bytes = 0
    for (const job of jobs) {
      const row = await records.byId(job.backupId)
      if (row.state !== 'verified') throw new Error(`backup ${job.backupId} is ${row.state}: ${row.error}`)
      bytes += Number(row.size_bytes)
    }
    // The steps ran here, not through the runner: close their operations as the runner would.
    await tenantd.catalog.db
      .updateTable('operations')
      .set({ status: 'succeeded', progress: 100, finished_at: new Date() })
      .where('id', 'in', jobs.map((j) => j.operation.id))
      .execute()
    return { write, verify, bytes, memory, jobs }
  }

  // The three runners take turns on batches of BENCH_BACKUP_BATCH databases (the order rotates
  // from batch to batch), so a burst of load from elsewhere lands on all of them alike.
  const total = {
    loop: { seconds: 0, cpu: 0, parts: [0, 0, 0], bytes: 0 },
    c1: { write: 0, writeCpu: 0, parts: [0, 0, 0], verify: 0, verifyCpu: 0, bytes: 0 },
    c2: { write: 0, writeCpu: 0, parts: [0, 0, 0], verify: 0, verifyCpu: 0, bytes: 0 },
  }
  const memory: Array<{ text: string; flat: boolean; growth: number }> = []
  const lastBackup = new Map<string, string>()
  let turn = 0
  for (let round = 1; round <= ROUNDS; round++) {
    for (let b = 0; b < tenants.length; b += BATCH) {
      const batch = tenants.slice(b, b + BATCH)
      const runners = ['loop', 'c1', 'c2'] as const
      const order = [0, 1, 2].map((k) => runners[(k + turn) % 3]!)
      turn++
      const line: string[] = []
      for (const runner of order) {
        if (runner === 'loop') {
          const r = await runLoop(batch, path.join(scratch, `loop-${round}-${b}`))
          total.loop.seconds += r.seconds
          total.loop.cpu += r.cpu
          r.parts.forEach((v, i) => (total.loop.parts[i]! += v))
          total.loop.bytes += r.bytes
          line.push(`loop ${r.seconds.toFixed(2)} s`)
        } else {
          const r = await runTenantd(batch, runner === 'c1' ? 1 : 2)
          const t = total[runner]
          t.write += r.write.seconds
          t.writeCpu += r.write.cpu
          r.write.parts.forEach((v, i) => (t.parts[i]! += v))
          t.verify += r.verify.seconds
          t.verifyCpu += r.verify.cpu
          t.bytes += r.bytes
          memory.push(r.memory)
          if (runner === 'c1') for (const job of r.jobs) lastBackup.set(job.tenantId, job.backupId)
          line.push(`${runner} ${r.write.seconds.toFixed(2)} s (+ verify ${r.verify.seconds.toFixed(2)} s)`)
        }
      }
      say(`round ${round}, databases ${b}-${b + batch.length - 1}: ${line.join(', ')}; load ${load()}`)
    }
  }
  const per = (x: number) => x / ROUNDS
  const loopS = per(total.loop.seconds)
  const c1W = per(total.c1.write)
  const c1V = per(total.c1.verify)
  const c2W = per(total.c2.write)
  const c2V = per(total.c2.verify)

  // --- restore ----------------------------------------------------------------------------
  const order = tenants.map((t, i) => ({ t, i, backupId: lastBackup.get(t.id)! })).sort((a, b) => sizes.get(b.t.id)! - sizes.get(a.t.id)!)
  const restoreRows: string[][] = []
  let tenantdRestore = 0
  let bareRestore = 0
  await mkdir(path.join(scratch, 'plain'), { recursive: true })
  for (const [k, { t: tenant, backupId }] of order.slice(0, RESTORES).entries()) {
    const row = await records.byId(backupId)
    const storage = targets.forTarget(row.storage_target)
    const plainFile = path.join(scratch, 'plain', `${tenant.database_name}.dump`)
    await pipeline(await storage.read(row.storage_key), createBackupDecryptor(tenantd.sealer, { tenantId: tenant.id, backupId }), createWriteStream(plainFile))
    const connection = (database: string) => {
      const c = tenantClientConfig(tenant, tenantd.sealer)
      return { host: c.host!, port: c.port!, database, user: tenant.role_name, password: c.password }
    }
    const args = (database: string) => ['--no-owner', '--no-acl', '--exit-on-error', '--single-transaction', '--no-password', `--dbname=${database}`]
    const viaTenantd = async () => {
      const db = await newDatabase(cluster, tenant, `${tenant.database_name}_rt`)
      const started = performance.now()
      await streamBackupToPgRestore({ sealer: tenantd.sealer, pgBinDir: config.pgBinDir }, storage, row, args(db), connection(db))
      return { db, seconds: (performance.now() - started) / 1000 }
    }
    const viaBare = async () => {
      const db = await newDatabase(cluster, tenant, `${tenant.database_name}_rb`)
      const c = connection(db)
      const started = performance.now()
      await execa(path.join(PG_BIN, 'pg_restore'), [...args(db), plainFile], {
        extendEnv: false,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', PGHOST: c.host, PGPORT: String(c.port), PGUSER: c.user, PGPASSWORD: c.password },
      })
      return { db, seconds: (performance.now() - started) / 1000 }
    }
    // Alternate which goes first: the second one finds more of the file in the page cache.
    const viaTenantdSeconds: number[] = []
    const viaBareSeconds: number[] = []
    for (let r = 0; r < RESTORE_REPEATS; r++) {
      const tenantdFirst = (k + r) % 2 === 0 ? await viaTenantd() : undefined
      const bare = await viaBare()
      const tenantdRun = tenantdFirst ?? (await viaTenantd())
      for (const db of [tenantdRun.db, bare.db]) {
        const { rows } = await cluster.query<{ n: string }>('select count(*) as n from bench_events', [], db)
        if (Number(rows[0]!.n) !== row.row_counts?.['public.bench_events']) throw new Error(`restored ${db} has ${rows[0]!.n} rows, the backup recorded ${row.row_counts?.['public.bench_events']}`)
        await cluster.query(`drop database ${escapeIdentifier(db)} with (force)`)
      }
      viaTenantdSeconds.push(tenantdRun.seconds)
      viaBareSeconds.push(bare.seconds)
    }
    const viaTenantdMedian = median(viaTenantdSeconds)
    const viaBareMedian = median(viaBareSeconds)
    tenantdRestore += viaTenantdMedian
    bareRestore += viaBareMedian
    restoreRows.push([tenant.database_name, mb(Number(row.dump_bytes)), viaTenantdMedian.toFixed(2), viaBareMedian.toFixed(2), (viaTenantdMedian / viaBareMedian).toFixed(2)])
  }

  // --- summary ----------------------------------------------------------------------------
  say()
  say(`backups of ${TENANTS} databases (${mb(totalData)} MB of table data), per pass (mean of ${ROUNDS} round(s)):`)
  const memoryText = (k: number) => memory.filter((_, i) => i % 2 === k).map((m) => m.text)
  table(
    ['runner', 'wall s', 'CPU s', 'write + verify s', 'MB written', 'time vs loop', 'CPU vs loop'],
    [
      ['loop: pg_dump | gzip -6', loopS.toFixed(2), per(total.loop.cpu).toFixed(2), '-', mb(per(total.loop.bytes)), '1.000', '1.000'],
      ['tenantd c=1 (write)', c1W.toFixed(2), per(total.c1.writeCpu).toFixed(2), (c1W + c1V).toFixed(2), mb(per(total.c1.bytes)), (c1W / loopS).toFixed(3), (total.c1.writeCpu / total.loop.cpu).toFixed(3)],
      ['tenantd c=2 (write)', c2W.toFixed(2), per(total.c2.writeCpu).toFixed(2), (c2W + c2V).toFixed(2), mb(per(total.c2.bytes)), (c2W / loopS).toFixed(3), (total.c2.writeCpu / total.loop.cpu).toFixed(3)],
    ]
  )
  const split = (parts: number[]) => parts.map((v) => per(v).toFixed(2)).join(' / ')
  say(`CPU s split (this process = tenantd / its children = pg_dump, bash, gzip / exited server backends): loop ${split(total.loop.parts)}, c=1 ${split(total.c1.parts)}, c=2 ${split(total.c2.parts)}`)
  say(`verify (read back, SHA-256, decrypt, pg_restore --list): c=1 ${c1V.toFixed(2)} s / ${per(total.c1.verifyCpu).toFixed(2)} CPU s, c=2 ${c2V.toFixed(2)} s / ${per(total.c2.verifyCpu).toFixed(2)} CPU s`)
  say(`tenantd c=2 vs c=1: ${(c1W / c2W).toFixed(2)}x; on 2 idle cores c=2 could take at best CPU/2 = ${(per(total.c2.writeCpu) / 2).toFixed(2)} s (loop / that = ${(loopS / (per(total.c2.writeCpu) / 2)).toFixed(2)})`)
  say(`RSS of the tenantd process while exporting, per batch: ${memoryText(0).concat(memoryText(1)).slice(0, 4).join('; ')}${memory.length > 4 ? '; ...' : ''}`)
  say()
  if (restoreRows.length) {
    say(`restore of the ${restoreRows.length} largest backups into a new database (median of ${RESTORE_REPEATS} each):`)
    table(['database', 'dump MB', 'tenantd s', 'bare pg_restore s', 'ratio'], restoreRows)
    say()
  }
  const goals: Array<[string, string, boolean]> = [
    ['tenantd c=1 / loop (write, encryption and checksums included)', `${(c1W / loopS).toFixed(3)} (goal <= 1.05)`, c1W / loopS <= 1.05],
    ['loop / tenantd c=2 (write)', `${(loopS / c2W).toFixed(2)} (goal >= 1.6)`, loopS / c2W >= 1.6],
  ]
  if (restoreRows.length) goals.push(['tenantd restore / bare pg_restore', `${(tenantdRestore / bareRestore).toFixed(3)} (goal <= 1.1)`, tenantdRestore / bareRestore <= 1.1])
  const growth = Math.max(...memory.map((m) => m.growth))
  goals.push(['RSS flat while exporting (peak - start < 64 MB in every batch)', `largest growth ${mb(growth)} MB over ${memory.length} batches`, memory.every((m) => m.flat)])
  for (const [what, figure, met] of goals) say(`${met ? 'MET   ' : 'MISSED'}  ${what}: ${figure}`)
  say(`also: loop / tenantd c=1 write + verify = ${(loopS / (c1W + c1V)).toFixed(2)}, loop / tenantd c=2 write + verify = ${(loopS / (c2W + c2V)).toFixed(2)}`)
  say(`machine load after the bench (1, 5, 15 min): ${load()}`)
}

/** An empty database owned by the tenant's role, as the restore operation creates it. */
async function newDatabase(cluster: Awaited<ReturnType<typeof startBenchTenantd>>['cluster'], tenant: TenantRecord, name: string): Promise<string> {
  await cluster.query(`drop database if exists ${escapeIdentifier(name)} with (force)`)
  await cluster.query(`create database ${escapeIdentifier(name)} owner ${escapeIdentifier(tenant.role_name)} encoding 'UTF8' template template0`)
  return name
}

/** Samples this process's RSS every 50 ms; stop() describes it ("start → peak → end MB"). */
function sampleRss(): { stop(): { text: string; flat: boolean; growth: number } } {
  const start = process.memoryUsage.rss()
  let peak = start
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 50)
  return {
    stop() {
      clearInterval(timer)
      const end = process.memoryUsage.rss()
      peak = Math.max(peak, end)
      // Flat: a streamed export holds a few buffers per backup in flight, never a dump.
      return { text: `${mb(start)} → peak ${mb(peak)} → end ${mb(end)} MB`, flat: peak - start < 64 * 2 ** 20, growth: peak - start }
    },
  }
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  say(line(header))
  say(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows) say(line(row))
}

await benchMain('bench:backup', 1_500_000, run)
