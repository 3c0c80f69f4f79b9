import { createInterface } from 'node:readline/promises'
import type { Readable, Writable } from 'node:stream'
import type { ReadStream } from 'node:tty'
import { CliError, ExitCode, UsageError } from './cli-error.js'

/** The terminal (or pipe) tenantctl reads secrets and confirmations from. */
export interface Terminal {
  stdin: Readable & Partial<Pick<ReadStream, 'isTTY' | 'setRawMode'>>
  /** Prompts are written here (stderr), never to stdout. */
  prompts: Writable
}

export interface SecretSource {
  /** The `--*-stdin` flag was given: read the whole of stdin. */
  fromStdin: boolean
  /** Environment variable to take it from, e.g. `TENANTD_PASSWORD`. */
  envVar: string
  env: NodeJS.ProcessEnv
  /** Prompt shown on a terminal, e.g. "Password: ". */
  prompt: string
  /** The flag named in the error when no source is available, e.g. `--password-stdin`. */
  stdinFlag: string
}

/**
 * Reads a secret without it ever passing through argv: from stdin (`--password-stdin`),
 * else the environment variable, else a no-echo prompt when stdin is a terminal.
 * Returns undefined when none applies and `optional` is set; else throws a UsageError.
 *
 * @example
 *   const password = await readSecret(terminal, {
 *     fromStdin: values['password-stdin'] === true, envVar: 'TENANTD_PASSWORD',
 *     env: process.env, prompt: 'Password: ', stdinFlag: '--password-stdin' })
 */
export async function readSecret(terminal: Terminal, source: SecretSource, optional = false): Promise<string | undefined> {
  if (source.fromStdin) {
    const secret = await readAll(terminal.stdin)
    if (secret === '') throw new UsageError(`${source.stdinFlag} given but stdin was empty`)
    return secret
  }
  const fromEnv = source.env[source.envVar]
  if (fromEnv) return fromEnv
  if (terminal.stdin.isTTY && terminal.stdin.setRawMode) return promptHidden(terminal, source.prompt)
  if (optional) return undefined
  throw new UsageError(`no secret given and stdin is not a terminal`, {
    hint: `pipe it to ${source.stdinFlag} or set ${source.envVar}`,
  })
}

/**
 * Asks a question on the terminal and returns the typed line (echoed), for confirmations.
 *
 * @example
 *   if ((await askLine(terminal, 'Type acme to confirm: ')) !== 'acme') ...
 */
export async function askLine(terminal: Terminal, question: string): Promise<string> {
  const rl = createInterface({ input: terminal.stdin, output: terminal.prompts, terminal: true })
  try {
    return (await rl.question(question)).trim()
  } finally {
    rl.close()
  }
}

/** All of stdin without its final line break (`echo secret |` adds one). */
async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

function promptHidden(terminal: Terminal, prompt: string): Promise<string> {
  const { stdin, prompts } = terminal
  prompts.write(prompt)
  stdin.setRawMode?.(true)
  stdin.setEncoding('utf8')
  stdin.resume()
  return new Promise((resolve, reject) => {
    let value = ''
    const done = (error?: Error) => {
      stdin.off('data', onData)
      stdin.setRawMode?.(false)
      stdin.pause()
      prompts.write('\n')
      if (error) reject(error)
      else resolve(value)
    }
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return done()
        if (char === '\u0003') return done(new CliError('interrupted', { exitCode: ExitCode.interrupted }))
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('')
        else value += char
      }
    }
    stdin.on('data', onData)
  })
}
