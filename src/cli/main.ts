/**
 * tenantctl: the command-line client of tenantd. `bin/tenantctl.js` loads this file.
 *
 * @example
 *   TENANTD_URL=http://127.0.0.1:5000 tenantctl list --status active
 */
import { runCli } from './cli-runner.js'
import { commands } from './commands/index.js'

process.exitCode = await runCli(process.argv.slice(2), commands, {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
})
