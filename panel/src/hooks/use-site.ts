import { useCallback, useEffect, useState } from 'preact/hooks'
import { detectSite, type Site } from '../api/site.js'

/**
 * Where the panel is served (api/site.ts), asked once at start; undefined until known.
 * `retry` asks again (after an "unavailable" answer, e.g. tenantd was restarting).
 */
export function useSite(): { site: Site | undefined; retry(): void } {
  const [site, setSite] = useState<Site | undefined>(undefined)
  const [version, setVersion] = useState(0)
  useEffect(() => {
    let live = true
    void detectSite().then((found) => {
      if (live) setSite(found)
    })
    return () => {
      live = false
    }
  }, [version])
  const retry = useCallback(() => {
    setSite(undefined)
    setVersion((v) => v + 1)
  }, [])
  return { site, retry }
}
