import type { ComponentChildren } from 'preact'

interface TextFieldProps {
  type?: 'text' | 'email' | 'password' | 'search'
  required?: boolean
  autoComplete?: string
  spellcheck?: boolean
  autoCapitalize?: 'none' | 'off'
  inputMode?: 'numeric'
  onBlur?(): void
  label: string
  name: string
  value: string
  onValue(value: string): void
  /** Shown under the field, and tied to it for screen readers. */
  hint?: ComponentChildren
  error?: string
}

/**
 * A labelled input with its hint and inline error (aria-invalid, aria-describedby).
 *
 * @example
 *   <TextField label="Slug" name="slug" value={slug} onValue={setSlug} error={errors.slug} />
 */
export function TextField({ label, name, value, onValue, hint, error, required, type = 'text', onBlur, ...rest }: TextFieldProps) {
  const id = `field-${name}`
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ')
  return (
    <div class={`field${error ? ' field-invalid' : ''}`}>
      <label for={id}>
        {label}
        {required && <span class="required" aria-hidden="true"> *</span>}
      </label>
      <input
        id={id}
        name={name}
        value={value}
        required={required}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={described || undefined}
        // Preact types each input type apart; these four take the same attributes.
        type={type as 'text'}
        onInput={(event) => onValue(event.currentTarget.value)}
        onBlur={onBlur}
        {...rest}
      />
      {hint && (
        <p class="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  )
}

interface SelectFieldProps {
  label: string
  name: string
  value: string
  onValue(value: string): void
  options: Array<{ value: string; label: string }>
  hint?: ComponentChildren
}

/** A labelled select. */
export function SelectField({ label, name, value, onValue, options, hint }: SelectFieldProps) {
  const id = `field-${name}`
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} name={name} value={value} aria-describedby={hint ? `${id}-hint` : undefined} onChange={(event) => onValue(event.currentTarget.value)}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {hint && (
        <p class="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  )
}
