import type { ApiClient } from './api-client.js'
import { UsageError } from './cli-error.js'
import type { CredentialsStore } from './credentials-store.js'
import type { Output } from './output.js'
import type { Terminal } from './secret-input.js'

/** One option of a command, as `parseArgs` takes it plus what `--help` shows. */
export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** Placeholder in help, e.g. "slug" for `--slug <slug>`. */
  valueName?: string
  description: string
}

/** What a command can use: the API, output, the terminal, the environment. */
export interface CommandContext {
  api: ApiClient
  out: Output
  terminal: Terminal
  env: NodeJS.ProcessEnv
  store: CredentialsStore
}

/**
 * One command, e.g. `suspend`. A command that fails throws (CliError, ApiError); it may
 * return an exit code when it has printed its own result and must still fail (exit 1).
 *
 * @example
 *   export const show: Command = {
 *     name: 'show', summary: 'Show one tenant', args: ['<id>'],
 *     async run({ api, out }, input) { ... },
 *   }
 */
export interface Command {
  name: string
  summary: string
  /** Positional arguments for help and arity checks: `<id>` required, `[id]` optional. */
  args?: string[]
  options?: Record<string, OptionSpec>
  /** Extra lines under the usage in `--help`. */
  details?: string
  run(context: CommandContext, input: CommandInput): Promise<number | void>
}

/** Commands under one word, e.g. `hosts list`, `hosts add`. */
export interface CommandGroup {
  name: string
  summary: string
  commands: Command[]
  /** Runs when no subcommand is named (`tenantctl ops` = `tenantctl ops list`). */
  defaultCommand?: string
}

export type CommandEntry = Command | CommandGroup

export function isGroup(entry: CommandEntry): entry is CommandGroup {
  return 'commands' in entry
}

/**
 * The parsed command line of one command, with typed accessors that turn bad input into
 * UsageError (exit 2).
 */
export class CommandInput {
  constructor(
    readonly values: Record<string, string | boolean | undefined>,
    readonly positionals: readonly string[],
  ) {}

  string(name: string): string | undefined {
    const value = this.values[name]
    return typeof value === 'string' ? value : undefined
  }

  requiredString(name: string): string {
    const value = this.string(name)
    if (value === undefined || value === '') throw new UsageError(`--${name} is required`)
    return value
  }

  flag(name: string): boolean {
    return this.values[name] === true
  }

  /** An integer option, at least `min` (default 0). */
  integer(name: string, min = 0): number | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    const value = Number(text)
    if (!Number.isInteger(value) || value < min) {
      throw new UsageError(`--${name} must be a whole number of at least ${min}, got "${text}"`)
    }
    return value
  }

  /** An integer option that must be given. */
  requiredInteger(name: string, min = 0): number {
    const value = this.integer(name, min)
    if (value === undefined) throw new UsageError(`--${name} is required`)
    return value
  }

  /** A string option that must be one of `allowed`. */
  choice<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name)
    if (value === undefined) return undefined
    if (!(allowed as readonly string[]).includes(value)) {
      throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`)
    }
    return value as T
  }

  /** The positional argument at `index` (arity is checked before the command runs). */
  arg(index: number): string {
    return this.positionals[index] ?? ''
  }
}
