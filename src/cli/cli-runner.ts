import { parseArgs } from 'node:util'
import type { Writable } from 'node:stream'
import { ApiClient, defaultUrl } from './api-client.js'
import { ApiError, CliError, ExitCode, UsageError } from './cli-error.js'
import { CommandInput, isGroup, type Command, type CommandEntry, type CommandGroup } from './command.js'
import { CredentialsStore } from './credentials-store.js'
import { commandHelp, globalOptions, groupHelp, overviewHelp } from './help.js'
import { Output } from './output.js'
import type { Terminal } from './secret-input.js'

/** The process around a run: environment and standard streams. */
export interface CliIo {
  env: NodeJS.ProcessEnv
  stdin: Terminal['stdin']
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean }
}

interface Resolved {
  command?: Command
  group?: CommandGroup
  rest: string[]
}

/**
 * Runs one tenantctl command line and returns its exit code. Every failure is printed to
 * stderr as `error: ...` (plus `hint: ...`) here, in one place.
 *
 * @example
 *   process.exitCode = await runCli(process.argv.slice(2), commands, { env: process.env, ...streams })
 */
export async function runCli(argv: readonly string[], entries: readonly CommandEntry[], io: CliIo): Promise<number> {
  const json = argv.includes('--json')
  const out = new Output(io.stdout, io.stderr, json, io.stderr.isTTY === true)
  try {
    return await dispatch(argv, entries, io, out)
  } catch (error) {
    if (error instanceof ApiError) {
      out.error(`${error.message} (${error.code})`, error.hint)
      return error.exitCode
    }
    if (error instanceof CliError) {
      out.error(error.message, error.hint)
      return error.exitCode
    }
    out.error(error instanceof Error ? error.message : String(error), 'this is a bug in tenantctl; please report it')
    return ExitCode.failure
  }
}

async function dispatch(argv: readonly string[], entries: readonly CommandEntry[], io: CliIo, out: Output): Promise<number> {
  const leading = argv.findIndex((token) => !token.startsWith('-'))
  const flagsBefore = leading === -1 ? [...argv] : argv.slice(0, leading)
  const words = leading === -1 ? [] : argv.slice(leading)
  const wantsHelp = flagsBefore.some((flag) => flag === '--help' || flag === '-h')

  if (words.length === 0) {
    if (wantsHelp) return print(io.stdout, overviewHelp(entries))
    io.stderr.write(overviewHelp(entries))
    return ExitCode.usage
  }
  if (words[0] === 'help') return print(io.stdout, helpFor(words.slice(1), entries))

  const resolved = resolve(words, entries)
  if (!resolved.command) return print(io.stdout, resolved.group ? groupHelp(resolved.group) : overviewHelp(entries))
  const { command, group } = resolved
  const path = group ? `${group.name} ${command.name}` : command.name

  let parsed
  try {
    parsed = parseArgs({
      args: [...flagsBefore, ...resolved.rest],
      options: { ...command.options, ...globalOptions },
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
        // parseArgs appends a long note about '--' to unknown options; the first sentence says it all.
    const message = (error as Error).message.split(/\. To specify|\n/)[0] ?? 'invalid arguments'
    throw new UsageError(message, { hint: `tenantctl help ${path}` })
  }
  if (parsed.values.help === true) return print(io.stdout, commandHelp(command, group))
  checkArity(command, parsed.positionals, path)

  const store = CredentialsStore.fromEnv(io.env)
  const baseUrl = io.env.TENANTD_URL || (await store.load().catch(() => undefined))?.url || defaultUrl
  const api = new ApiClient({ baseUrl, envToken: io.env.TENANTD_TOKEN, store })
  const context = { api, out, env: io.env, store, terminal: { stdin: io.stdin, prompts: io.stderr } }
  const values = parsed.values as Record<string, string | boolean | undefined>
  return (await command.run(context, new CommandInput(values, parsed.positionals))) ?? ExitCode.ok
}

/** Finds the command a command line names: `list`, `hosts add`, or `ops` (its default). */
function resolve(words: readonly string[], entries: readonly CommandEntry[]): Resolved {
  const [name = '', ...rest] = words
  const entry = entries.find((e) => e.name === name)
  if (!entry) throw new UsageError(`unknown command "${name}"`, { hint: 'tenantctl --help lists the commands' })
  if (!isGroup(entry)) return { command: entry, rest }
  const [sub, ...subRest] = rest
  const named = entry.commands.find((c) => c.name === sub)
  if (named) return { command: named, group: entry, rest: subRest }
  const fallback = entry.commands.find((c) => c.name === entry.defaultCommand)
  if (sub === undefined || sub.startsWith('-')) {
    if (fallback && !rest.includes('--help') && !rest.includes('-h')) return { command: fallback, group: entry, rest }
    if (sub === undefined || sub === '--help' || sub === '-h') return { group: entry, rest }
    if (fallback) return { command: fallback, group: entry, rest }
  }
  throw new UsageError(`unknown command "${entry.name} ${sub}"`, { hint: `tenantctl help ${entry.name}` })
}

function helpFor(words: readonly string[], entries: readonly CommandEntry[]): string {
  if (words.length === 0) return overviewHelp(entries)
  const entry = entries.find((e) => e.name === words[0])
  if (entry && isGroup(entry) && words.length === 1) return groupHelp(entry)
  const resolved = resolve(words, entries)
  if (resolved.command) return commandHelp(resolved.command, resolved.group)
  return resolved.group ? groupHelp(resolved.group) : overviewHelp(entries)
}

function checkArity(command: Command, positionals: readonly string[], path: string): void {
  const args = command.args ?? []
  const required = args.filter((a) => a.startsWith('<'))
  if (positionals.length < required.length) {
    throw new UsageError(`missing ${required.slice(positionals.length).join(' ')}`, { hint: `tenantctl help ${path}` })
  }
  if (positionals.length > args.length) {
    throw new UsageError(`unexpected argument "${positionals[args.length]}"`, { hint: `tenantctl help ${path}` })
  }
}

function print(stream: Writable, text: string): number {
  stream.write(text)
  return ExitCode.ok
}
