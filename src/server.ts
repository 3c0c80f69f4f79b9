import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { loggerOptions, pino } from './logger.js'
import { KeyringError } from './secrets/secret-sealer.js'
import { startTenantd } from './tenantd.js'

/** Entry point: configuration, logger, start, listen, and an orderly shutdown on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tenantd: invalid configuration: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  const log = pino(loggerOptions(config.logLevel))
  let tenantd
  try {
    tenantd = await startTenantd(config, log)
  } catch (error) {
    if (error instanceof KeyringError) {
      process.stderr.write(`tenantd: invalid configuration: ${error.message}\n`)
      process.exit(2)
    }
    log.fatal({ err: error }, 'tenantd could not start')
    process.stderr.write(`tenantd: could not start: ${(error as Error).message}\n`)
    process.exit(1)
  }
  const app = await buildApp(tenantd)

  closeWithGrace({ delay: 15_000, logger: log }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down')
    // Order: stop accepting requests, then operations/pools/catalog, then the embedded server.
    await app.close()
    await tenantd.close()
  })

  await app.listen({ port: config.port, host: config.host })
  const mode = config.databaseUrl ? 'catalog from DATABASE_URL' : `embedded PostgreSQL in ${config.dataDir}`
  log.info({ url: `http://${config.host}:${config.port}`, docs: `http://${config.host}:${config.port}/docs`, mode }, 'tenantd is serving')
}

await main()
