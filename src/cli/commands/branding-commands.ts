import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { CliError, UsageError } from '../cli-error.js'
import type { Command } from '../command.js'
import { formatBytes, formatTime } from '../table-format.js'
import { tenantPath } from './tenant-view.js'

interface Branding {
  name: string
  logo: { contentType: string; sizeBytes: number; sha256: string; updatedAt: string } | null
}

const typesByExtension: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif', '.svg': 'image/svg+xml' }

/**
 * `tenantctl branding <tenant> [--name n] [--logo file] [--remove-logo]`: the tenant's display
 * name and logo (runbook 003's coat of arms); with no option, shows them.
 */
export const branding: Command = {
  name: 'branding',
  summary: "Show or change a tenant's display name and logo",
  args: ['<tenant>'],
  options: {
    name: { type: 'string', valueName: 'name', description: 'new display name' },
    logo: { type: 'string', valueName: 'file', description: 'upload this PNG, JPEG, WebP or GIF as the logo (at most 512 KiB)' },
    'remove-logo': { type: 'boolean', description: 'remove the logo' },
  },
  async run({ api, out }, input) {
    const base = tenantPath(input.arg(0))
    const name = input.string('name')
    const logo = input.string('logo')
    const remove = input.flag('remove-logo')
    if (logo && remove) throw new UsageError('give --logo or --remove-logo, not both')
    if (name !== undefined) await api.request('PATCH', base, { body: { name } })
    if (logo) {
      const bytes = await readFile(logo).catch((error: NodeJS.ErrnoException) => {
        throw new CliError(`cannot read ${logo}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`)
      })
      const contentType = typesByExtension[path.extname(logo).toLowerCase()] ?? 'application/octet-stream'
      const response = await api.stream('PUT', `${base}/logo`, { body: () => new Blob([bytes]).stream(), contentType })
      await response.body?.cancel().catch(() => {})
    }
    if (remove) await api.request('DELETE', `${base}/logo`)
    const { body } = await api.request<Branding>('GET', `${base}/branding`)
    if (out.json) return out.printJson(body)
    if (name !== undefined || logo || remove) out.success(`Branding of ${input.arg(0)} updated`)
    out.keyValues([
      ['Name', body.name],
      ['Logo', body.logo ? `${body.logo.contentType}, ${formatBytes(body.logo.sizeBytes)}, sha256 ${body.logo.sha256.slice(0, 12)}…, ${formatTime(body.logo.updatedAt)}` : 'none'],
    ])
  },
}
