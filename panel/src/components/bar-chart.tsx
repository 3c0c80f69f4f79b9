import { useId } from 'preact/hooks'

export interface Bar {
  /** Under the bar, e.g. a short date. */
  label: string
  value: number
  /** The bar's tooltip and its line in the text alternative, e.g. "12 Mar, 14:03: 2.3 MB". */
  title: string
  tone?: 'primary' | 'danger' | 'muted'
}

interface BarChartProps {
  /** What the chart shows, e.g. "Backup sizes, oldest to newest"; the SVG's accessible name. */
  title: string
  bars: Bar[]
  /** The axis's top value, e.g. formatBytes. */
  formatValue(value: number): string
}

const width = 640
const height = 160
const top = 18
const bottom = 22
const left = 4

/**
 * A small bar chart in inline SVG: geometry in SVG attributes, colours from the stylesheet's
 * variables (no style attribute, so the CSP holds), no chart library. Screen readers get the
 * title and every bar's value as the description; a pointer gets each bar's tooltip.
 *
 * @example
 *   <BarChart title="Backup sizes" bars={[{ label: '12 Mar', value: 2048, title: '12 Mar: 2 KB' }]} formatValue={formatBytes} />
 */
export function BarChart({ title, bars, formatValue }: BarChartProps) {
  const id = useId()
  const max = Math.max(1, ...bars.map((bar) => bar.value))
  const plot = height - top - bottom
  const slot = (width - left) / Math.max(bars.length, 1)
  const barWidth = Math.max(2, Math.min(48, slot * 0.7))
  // Labels under every bar would overlap when there are many: show about eight.
  const labelEvery = Math.max(1, Math.ceil(bars.length / 8))
  return (
    <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} preserveAspectRatio="xMidYMid meet">
      <title id={`${id}-title`}>{title}</title>
      <desc id={`${id}-desc`}>{bars.map((bar) => bar.title).join('; ')}</desc>
      <line class="chart-grid" x1={left} x2={width} y1={top} y2={top} />
      <text class="chart-axis" x={left} y={top - 6}>
        {formatValue(max)}
      </text>
      {bars.map((bar, i) => {
        const h = Math.max(1, Math.round((bar.value / max) * plot))
        const x = left + i * slot + (slot - barWidth) / 2
        return (
          <g key={i}>
            <rect class={`chart-bar chart-bar-${bar.tone ?? 'primary'}`} x={x} y={top + plot - h} width={barWidth} height={h} rx={3}>
              <title>{bar.title}</title>
            </rect>
            {i % labelEvery === 0 && (
              <text class="chart-label" x={x + barWidth / 2} y={height - 6} text-anchor="middle">
                {bar.label}
              </text>
            )}
          </g>
        )
      })}
      <line class="chart-baseline" x1={left} x2={width} y1={top + plot} y2={top + plot} />
    </svg>
  )
}
