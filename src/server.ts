import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { assertDataDirFree } from './embedded/data-dir-lock.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { loggerOptions, pino, type Logger } from './logger.js'
import { KeyringError } from './secrets/secret-sealer.js'
import { assertCanListen, listenFailure } from './startup/port-check.js'
import { catalogFailure, describeDatabaseUrl, StartupError } from './startup/startup-error.js'
import { startTenantd, type Tenantd } from './tenantd.js'

/** Entry point: configuration, logger, start, listen, and an orderly shutdown on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) fail(`invalid configuration: ${error.message}`, 2)
    throw error
  }
  const log = pino(loggerOptions(config.logLevel))
  let tenantd: Tenantd | undefined
  try {
    await assertCanListen(config.host, config.port).catch(async (error) => {
      // A second `npm start` on the same data dir usually has the same PORT too: say the real cause.
      if (!config.databaseUrl) await assertDataDirFree(config.dataDir)
      throw error
    })
    tenantd = await startTenantd(config, log)
    const app = await buildApp(tenantd)
    closeWithGrace({ delay: 15_000, logger: log }, async ({ signal, err }) => {
      if (err) log.error({ err }, 'shutting down after an error')
      else log.info({ signal }, 'shutting down')
      // Order: stop accepting requests, then operations/pools/catalog, then the embedded server.
      await app.close()
      await tenantd!.close()
    })
    await app.listen({ port: config.port, host: config.host }).catch((error) => {
      throw listenFailure(error, config.host, config.port)
    })
    const url = `http://${config.host}:${config.port}`
    tenantd.dataDirLock?.serving(url)
    const mode = config.databaseUrl ? 'catalog from DATABASE_URL' : `embedded PostgreSQL in ${config.dataDir}`
    log.info({ url, docs: `${url}/docs`, mode }, 'tenantd is serving')
  } catch (error) {
    // The log keeps the details; the terminal gets one line saying what to do.
    log.fatal({ err: error }, 'tenantd could not start')
    await tenantd?.close().catch(() => {})
    if (error instanceof KeyringError) fail(`invalid configuration: ${error.message}`, 2)
    fail(`could not start: ${startupLine(error, config)}`, 1)
  }
}

/** The one line for a start-up failure: a StartupError's own, a catalog problem, or the error's first line. */
function startupLine(error: unknown, config: Config): string {
  if (error instanceof StartupError) return error.message
  const catalog = config.databaseUrl ? catalogFailure(error, describeDatabaseUrl(config.databaseUrl)) : undefined
  if (catalog) return catalog
  const message = error instanceof Error ? error.message : String(error)
  return `${message.split('\n')[0]}; the log above has the details`
}

function fail(line: string, code: number): never {
  process.stderr.write(`tenantd: ${line}\n`)
  process.exit(code)
}

await main()
