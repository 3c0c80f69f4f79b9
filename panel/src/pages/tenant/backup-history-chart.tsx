import type { Backup } from '../../api/api-types.js'
import { BarChart } from '../../components/bar-chart.js'
import { formatBytes, formatDate } from '../../format.js'

const shortDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' })

/**
 * Backup sizes over time, oldest on the left (from the backups listed): stored bytes of each
 * backup, failed ones in red. Nothing is drawn until there are two sizes to compare.
 */
export function BackupHistoryChart({ backups }: { backups: Backup[] }) {
  const sized = backups.filter((b) => b.sizeBytes !== null).reverse()
  if (sized.length < 2) return null
  const bars = sized.map((b) => ({
    label: shortDate.format(new Date(b.createdAt)),
    value: b.sizeBytes!,
    title: `${formatDate(b.createdAt)}: ${formatBytes(b.sizeBytes)}, ${b.state}`,
    tone: b.state === 'failed' ? ('danger' as const) : b.state === 'pruned' ? ('muted' as const) : ('primary' as const),
  }))
  const newest = sized[sized.length - 1]!
  return (
    <figure class="chart-figure">
      <BarChart title={`Sizes of the last ${sized.length} backups, oldest to newest`} bars={bars} formatValue={formatBytes} />
      <figcaption class="muted small">
        Backup sizes, oldest to newest: the latest is {formatBytes(newest.sizeBytes)}, the largest {formatBytes(Math.max(...sized.map((b) => b.sizeBytes!)))}.
      </figcaption>
    </figure>
  )
}
