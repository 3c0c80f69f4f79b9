import { isGroup, type Command, type CommandEntry, type CommandGroup, type OptionSpec } from './command.js'

/** Options every command takes. */
export const globalOptions: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'print the raw JSON answer of the API (for scripts)' },
  help: { type: 'boolean', short: 'h', description: 'show help for the command' },
}

const environment = `Environment:
  TENANTD_URL            tenantd address (default: that of the last login, else http://127.0.0.1:5000)
  TENANTD_TOKEN          bearer token; overrides the one stored by \`tenantctl login\`
  TENANTCTL_CONFIG_DIR   where credentials.json lives (default ~/.config/tenantd)

Exit codes: 0 done, 1 failed, 2 wrong usage or confirmation refused, 130 interrupted.`

/**
 * The overview of all commands (`tenantctl --help`).
 *
 * @example
 *   process.stdout.write(overviewHelp(commands))
 */
export function overviewHelp(entries: readonly CommandEntry[]): string {
  const lines: Array<[string, string]> = []
  for (const entry of entries) {
    if (isGroup(entry)) {
      for (const command of entry.commands) lines.push([`${entry.name} ${signature(command)}`, command.summary])
    } else {
      lines.push([signature(entry), entry.summary])
    }
  }
  return [
    'Usage: tenantctl <command> [options]',
    '',
    'tenantctl drives tenantd, the control plane of per-tenant PostgreSQL databases.',
    '',
    'Commands:',
    ...aligned(lines),
    '',
    'Global options:',
    ...optionLines(globalOptions),
    '',
    environment,
    '',
    'Run `tenantctl help <command>` for the options of one command.',
    '',
  ].join('\n')
}

/** The help of one command (`tenantctl help suspend`, `tenantctl hosts add --help`). */
export function commandHelp(command: Command, group?: CommandGroup): string {
  const path = group ? `${group.name} ${signature(command)}` : signature(command)
  const lines = [`Usage: tenantctl ${path} [options]`, '', command.summary + '.']
  if (command.details) lines.push('', command.details)
  const options = { ...command.options, ...globalOptions }
  lines.push('', 'Options:', ...optionLines(options), '')
  return lines.join('\n')
}

/** The help of a group (`tenantctl hosts --help`). */
export function groupHelp(group: CommandGroup): string {
  const lines: Array<[string, string]> = group.commands.map((c) => [`${group.name} ${signature(c)}`, c.summary])
  const fallback = group.defaultCommand ? `\`tenantctl ${group.name}\` alone runs \`${group.name} ${group.defaultCommand}\`.\n` : ''
  return [`Usage: tenantctl ${group.name} <command> [options]`, '', group.summary + '.', '', 'Commands:', ...aligned(lines), '', fallback].join('\n')
}

/** "show <id>": the command name and its positional arguments. */
function signature(command: Command): string {
  return [command.name, ...(command.args ?? [])].join(' ')
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  return aligned(
    Object.entries(options).map(([name, spec]) => {
      const short = spec.short ? `-${spec.short}, ` : ''
      const value = spec.type === 'string' ? ` <${spec.valueName ?? name}>` : ''
      return [`${short}--${name}${value}`, spec.description]
    }),
  )
}

function aligned(lines: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(0, ...lines.map(([left]) => left.length))
  return lines.map(([left, right]) => `  ${left.padEnd(width)}   ${right}`)
}
