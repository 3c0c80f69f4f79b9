import { tenantPath } from '../../api/api-client.js'
import type { SizeHistory } from '../../api/api-types.js'
import { BarChart } from '../../components/bar-chart.js'
import { ErrorBanner } from '../../components/error-banner.js'
import { formatBytes, formatDate } from '../../format.js'
import { useApi } from '../../hooks/use-api.js'

const shortDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' })
const shortHour = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })

/**
 * The database's size over the last 30 days (GET .../size-history: the largest sample of each
 * day), oldest on the left; says when tenantd samples, and why there is no chart yet.
 */
export function SizeHistoryChart({ slug }: { slug: string }) {
  const history = useApi<SizeHistory>(tenantPath(slug, '/size-history'), { days: 30 })
  if (history.error) return <ErrorBanner error={history.error} onRetry={history.reload} />
  const data = history.data
  if (!data) return null
  const every = data.sampleMinutes > 0 ? `every ${data.sampleMinutes >= 60 && data.sampleMinutes % 60 === 0 ? `${data.sampleMinutes / 60} h` : `${data.sampleMinutes} min`}` : 'never (TENANTD_SIZE_SAMPLE_MINUTES=0)'
  if (data.items.length < 2) {
    return (
      <p class="muted small">
        Size history: {data.items.length === 0 ? 'no sample yet' : `one sample, ${formatBytes(data.items[0]!.bytes)} on ${formatDate(data.items[0]!.at)}`}. tenantd samples {every}; the chart appears with the second day.
      </p>
    )
  }
  const label = (at: string) => (data.resolution === 'day' ? shortDate : shortHour).format(new Date(at))
  const bars = data.items.map((point) => ({ label: label(point.at), value: point.bytes, title: `${formatDate(point.at)}: ${formatBytes(point.bytes)}` }))
  const first = data.items[0]!
  const last = data.items[data.items.length - 1]!
  const growth = last.bytes - first.bytes
  return (
    <figure class="chart-figure">
      <BarChart title={`Database size over the last ${data.days} days, oldest to newest`} bars={bars} formatValue={formatBytes} />
      <figcaption class="muted small">
        Database size, {data.resolution === 'day' ? 'largest of each day' : 'each hour'}: {formatBytes(last.bytes)} now, {growth >= 0 ? 'up' : 'down'} {formatBytes(Math.abs(growth))} since {formatDate(first.at)}. Sampled {every}.
      </figcaption>
    </figure>
  )
}
