import { humanize } from '../format.js'

const tones: Record<string, 'ok' | 'info' | 'warn' | 'danger' | 'neutral'> = {
  active: 'ok',
  succeeded: 'ok',
  verified: 'ok',
  installed: 'ok',
  moved: 'ok',
  applied: 'ok',
  ready: 'ok',
  reachable: 'ok',
  provisioning: 'info',
  running: 'info',
  pending: 'info',
  completed: 'info',
  kept: 'info',
  suspended: 'warn',
  draining: 'warn',
  drift: 'warn',
  canceled: 'danger',
  failed: 'danger',
  failing: 'danger',
  rolled_back: 'danger',
  unreachable: 'danger',
  error: 'danger',
  deleted: 'neutral',
  removed: 'neutral',
  pruned: 'neutral',
  skipped: 'neutral',
  not_installed: 'neutral',
}

/** A status word in its colour: green for good, blue for under way, amber for paused, red for trouble. */
export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${tones[status] ?? 'neutral'}`}>{humanize(status)}</span>
}
