import { useEffect, useState } from 'preact/hooks'
import { api } from '../api/api-client.js'

let version = 0
const listeners = new Set<(version: number) => void>()

/** Tells every header and preview showing a logo or name that the branding changed. */
export function brandingChanged(): void {
  version += 1
  for (const listener of listeners) listener(version)
}

/** A number that changes whenever brandingChanged() is called: a dependency that refetches. */
export function useBrandingVersion(): number {
  const [current, setCurrent] = useState(version)
  useEffect(() => {
    listeners.add(setCurrent)
    return () => void listeners.delete(setCurrent)
  }, [])
  return current
}

/**
 * An image the API guards (a tenant's logo under /api/admin), fetched with the session's token
 * as a blob: URL for an <img>; undefined while loading, when `path` is null, or on error.
 * Refetched when `path` or `version` changes; the previous URL is revoked.
 */
export function useGuardedImage(path: string | null, version: number): string | undefined {
  const [url, setUrl] = useState<string | undefined>(undefined)
  useEffect(() => {
    if (!path) {
      setUrl(undefined)
      return
    }
    let current: string | undefined
    let cancelled = false
    api.imageUrl(path).then(
      (objectUrl) => {
        if (cancelled) return URL.revokeObjectURL(objectUrl)
        current = objectUrl
        setUrl(objectUrl)
      },
      () => !cancelled && setUrl(undefined)
    )
    return () => {
      cancelled = true
      if (current) URL.revokeObjectURL(current)
    }
  }, [path, version])
  return url
}
