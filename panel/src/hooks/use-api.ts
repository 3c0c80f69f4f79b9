import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { api } from '../api/api-client.js'
import type { ApiError } from '../api/api-error.js'
import type { QueryValue } from '../api/http.js'

export interface ApiState<T> {
  data: T | undefined
  error: ApiError | undefined
  loading: boolean
  /** Fetches again, keeping the current data on screen meanwhile. */
  reload(): void
}

/**
 * GETs `path` (with `query`) whenever either changes, and on reload(); null fetches nothing.
 * An answer that arrives after a newer request started is dropped.
 *
 * @example
 *   const tenants = useApi<Page<Tenant>>('/api/admin/tenants', { search: q, limit: 500 })
 */
export function useApi<T>(path: string | null, query: Record<string, QueryValue> = {}): ApiState<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<ApiError | undefined>(undefined)
  const [loading, setLoading] = useState(path !== null)
  const [version, setVersion] = useState(0)
  const latest = useRef(0)
  const key = path === null ? null : `${path}?${JSON.stringify(query)}`

  useEffect(() => {
    if (path === null) return
    const request = ++latest.current
    setLoading(true)
    api.get<T>(path, query).then(
      (body) => {
        if (request !== latest.current) return
        setData(body)
        setError(undefined)
        setLoading(false)
      },
      (failure: ApiError) => {
        if (request !== latest.current) return
        setError(failure)
        setLoading(false)
      }
    )
    // The key stands for path and query.
  }, [key, version])

  useEffect(() => () => void (latest.current = -1), [])
  const reload = useCallback(() => setVersion((v) => v + 1), [])
  return { data, error, loading, reload }
}

/** Calls `tick` every `ms` while `active`; stops on unmount. */
export function useInterval(tick: () => void, ms: number, active = true): void {
  const saved = useRef(tick)
  saved.current = tick
  useEffect(() => {
    if (!active) return
    const timer = setInterval(() => saved.current(), ms)
    return () => clearInterval(timer)
  }, [ms, active])
}

/** Sets the page's title: "<title> · tenantd". */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · tenantd`
  }, [title])
}
