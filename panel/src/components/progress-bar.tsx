/** A labelled progress bar (0..100). */
export function ProgressBar({ value, label }: { value: number; label: string }) {
  return (
    <div class="progress">
      <progress max={100} value={value} aria-label={label} />
      <span class="progress-value">{value}%</span>
    </div>
  )
}

/**
 * How full something is, e.g. a host's tenants against its capacity; unbounded shows the count
 * alone.
 */
export function CapacityBar({ used, capacity, label }: { used: number; capacity: number | null; label: string }) {
  if (capacity === null) return <span class="muted">{used} (no limit)</span>
  const percent = capacity > 0 ? Math.min(100, Math.round((used / capacity) * 100)) : 100
  const tone = percent >= 90 ? 'danger' : percent >= 70 ? 'warn' : 'ok'
  return (
    <div class="capacity">
      <div class={`capacity-track capacity-${tone}`} role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={capacity} aria-valuenow={used} aria-valuetext={`${used} of ${capacity}`}>
        {/* Set through the CSSOM (element.style), which the CSP allows; no style attribute. */}
        <div class="capacity-fill" style={{ width: `${percent}%` }} />
      </div>
      <span class="capacity-text">
        {used} / {capacity}
      </span>
    </div>
  )
}
