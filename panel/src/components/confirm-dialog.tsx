import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { ErrorBanner } from './error-banner.js'

interface ConfirmDialogProps {
  title: string
  children: ComponentChildren
  confirmLabel: string
  /** Red button for what cannot be undone easily. */
  danger?: boolean
  /** The word the operator must type before the button enables (e.g. the tenant's slug). */
  typed?: string
  /** Does the work; a thrown error is shown in the dialog, which stays open. */
  onConfirm(): Promise<void>
  onClose(): void
}

/**
 * A modal confirmation (the native <dialog>: focus kept inside, Escape closes). With `typed`,
 * the action needs the exact word typed first, for anything destructive.
 */
export function ConfirmDialog({ title, children, confirmLabel, danger, typed, onConfirm, onClose }: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)

  useEffect(() => {
    const dialog = ref.current
    if (dialog && !dialog.open) dialog.showModal()
  }, [])

  const ready = !busy && (typed === undefined || text.trim() === typed)
  const confirm = async (event: Event) => {
    event.preventDefault()
    if (!ready) return
    setBusy(true)
    setError(undefined)
    try {
      await onConfirm()
      onClose()
    } catch (failure) {
      setError(failure)
      setBusy(false)
    }
  }

  return (
    <dialog ref={ref} class="dialog" aria-labelledby="dialog-title" onClose={onClose}>
      <form method="dialog" onSubmit={confirm}>
        <h2 id="dialog-title">{title}</h2>
        <div class="dialog-body">{children}</div>
        {typed !== undefined && (
          <div class="field">
            <label for="dialog-typed">
              Type <strong class="mono">{typed}</strong> to confirm
            </label>
            <input id="dialog-typed" name="typed" autoComplete="off" spellcheck={false} value={text} onInput={(event) => setText(event.currentTarget.value)} />
          </div>
        )}
        <ErrorBanner error={error} />
        <div class="dialog-actions">
          <button type="button" class="button" onClick={() => ref.current?.close()} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class={`button ${danger ? 'button-danger' : 'button-primary'}`} disabled={!ready}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  )
}
