import type { AuditEntry } from '../api/api-types.js'
import { formatDate } from '../format.js'
import { DataTable } from './data-table.js'

/** A short, readable line for an audit entry's details (they are free-form JSON). */
function summary(details: unknown): string {
  if (details === null || details === undefined) return ''
  if (typeof details !== 'object') return String(details)
  return Object.entries(details as Record<string, unknown>)
    .filter(([, value]) => value !== null && value !== undefined && typeof value !== 'object')
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(', ')
}

/** Audit entries, newest first: when, who, what, on what. */
export function AuditTable({ items, label }: { items: AuditEntry[]; label: string }) {
  return (
    <DataTable label={label} columns={['When', 'Action', 'Actor', 'Target', 'Details']}>
      {items.map((entry) => (
        <tr key={entry.id}>
          <td class="nowrap">{formatDate(entry.createdAt)}</td>
          <td>
            <span class="tag">{entry.action}</span>
          </td>
          <td>{entry.actorEmail ?? entry.actorType}</td>
          <td class="mono small">{entry.target ?? '—'}</td>
          <td class="small muted details">{summary(entry.details)}</td>
        </tr>
      ))}
    </DataTable>
  )
}
