import type { EdgeStatus } from '../api-types.js'
import { CliError } from '../cli-error.js'
import type { Command, CommandGroup } from '../command.js'
import type { Output } from '../output.js'

interface SyncResult {
  generation: number
  written: boolean
  applied: boolean
  status: EdgeStatus
}

function showStatus(out: Output, status: EdgeStatus): void {
  const { generation, caddy } = status
  out.keyValues([
    ['Apply', `${status.apply}${status.apply !== 'off' && !caddy.found ? ' (caddy not found: reloads are off)' : ''}`],
    ['Mode', status.mode],
    ['File', status.file],
    ['Template', status.template],
    ['Caddy', caddy.found ? `${caddy.version} (admin ${caddy.admin}, reloads ${caddy.reloads})` : 'not found: the file is written, nothing is reloaded'],
    ['Generation', `${generation.current} current, ${generation.rendered} rendered, ${generation.applied} applied`],
    ['State', status.upToDate ? 'up to date' : 'behind the catalog'],
    ['Reloads', status.reloads],
    ['Last render', status.lastRenderAt ?? 'never'],
    ['Last reload', status.lastReloadAt ?? 'never'],
    ['Last error', status.lastError ? `${status.lastError} (${status.lastErrorAt})` : 'none'],
  ])
}

const edgeStatus: Command = {
  name: 'status',
  summary: 'What the edge runs: mode, file, generations rendered and applied, last reload and error',
  async run({ api, out }) {
    const { body } = await api.request<EdgeStatus>('GET', '/api/admin/edge')
    if (out.json) return out.printJson(body)
    showStatus(out, body)
  },
}

function syncCommand(name: 'render' | 'reload', summary: string): Command {
  return {
    name,
    summary,
    async run({ api, out }) {
      const { body } = await api.request<SyncResult>('POST', `/api/admin/edge/${name}`)
      if (out.json) return out.printJson(body)
      const what = body.written ? 'rendered a new Caddyfile' : 'the Caddyfile was already current'
      if (body.applied) out.success(`Generation ${body.generation}: ${what}; Caddy runs it`)
      else if (body.status.caddy.reloads === 'off') out.success(`Generation ${body.generation}: ${what} (${body.status.file}); reloads are off`)
      else {
        throw new CliError(`generation ${body.generation}: ${what}, but Caddy did not take it: ${body.status.lastError ?? 'unknown error'}`, {
          hint: 'tenantd retries on its own; check that Caddy runs and that TENANTD_CADDY_ADMIN points at its admin endpoint',
        })
      }
    },
  }
}

/** `tenantctl edge status|render|reload`: the Caddyfile tenantd renders, and Caddy. */
export const edgeGroup: CommandGroup = {
  name: 'edge',
  summary: 'The edge (Caddy): status, render, reload',
  commands: [edgeStatus, syncCommand('render', 'Render, validate and write the Caddyfile now'), syncCommand('reload', 'Make Caddy load the rendered Caddyfile now')],
  defaultCommand: 'status',
}
