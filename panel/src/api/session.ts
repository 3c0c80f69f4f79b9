import type { SessionUser, TokenPair } from './api-types.js'
import { ApiError } from './api-error.js'
import { parse, send } from './http.js'

/**
 * The refresh token survives a reload of this tab (sessionStorage: not other tabs, not after
 * the tab closes); the access token lives only in memory.
 */
const refreshTokenKey = 'tenantd.panel.refreshToken'

/** Refresh this long before the access token expires, so requests never carry a stale one. */
const refreshMarginMs = 60_000

export type SessionState =
  | { status: 'starting' }
  | { status: 'signedOut'; expired: boolean }
  | { status: 'signedIn'; user: SessionUser }

/**
 * The signed-in operator: sign in and out, and silent refresh (a timer before the access
 * token expires, and on demand after a 401). Concurrent refreshes share one request: each
 * refresh spends the refresh token, and presenting a spent one revokes the whole session.
 *
 * @example
 *   await session.signIn('admin@tenantd.local', password)
 *   session.subscribe(() => console.log(session.state))
 */
export class Session {
  #state: SessionState = { status: 'starting' }
  #accessToken: string | undefined
  #expiresAt = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #refreshing: Promise<boolean> | undefined
  readonly #listeners = new Set<() => void>()

  get state(): SessionState {
    return this.#state
  }

  /** Calls `listener` on every change of state; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** A current access token, refreshed first when it is about to expire; undefined when signed out. */
  async accessToken(): Promise<string | undefined> {
    if (this.#accessToken && Date.now() > this.#expiresAt - refreshMarginMs) await this.refresh()
    return this.#accessToken
  }

  /** Signs in on this host (operators on the control host, the tenant's users on its own address); throws the API's error. */
  async signIn(email: string, password: string): Promise<void> {
    const pair = await parse<TokenPair>(await send('POST', '/api/auth/login', { body: { email, password } }))
    this.#accept(pair)
  }

  /** On page load: resumes the tab's session from its stored refresh token, if any. */
  async resume(): Promise<void> {
    if (!(await this.refresh())) this.#signedOut(false)
  }

  /** Trades the refresh token for a new pair; false (and signed out) when there is none or it is refused. */
  refresh(): Promise<boolean> {
    this.#refreshing ??= this.#refreshOnce().finally(() => {
      this.#refreshing = undefined
    })
    return this.#refreshing
  }

  /** Revokes the session on the server (best effort) and forgets it here. */
  async signOut(): Promise<void> {
    const refreshToken = sessionStorage.getItem(refreshTokenKey)
    this.#signedOut(false)
    if (refreshToken) await send('POST', '/api/auth/logout', { body: { refreshToken } }).catch(() => undefined)
  }

  /** The API refused the session and it could not be refreshed: back to sign-in, keeping the page. */
  expire(): void {
    if (this.#state.status === 'signedIn') this.#signedOut(true)
  }

  async #refreshOnce(): Promise<boolean> {
    const refreshToken = sessionStorage.getItem(refreshTokenKey)
    if (!refreshToken) return false
    try {
      const response = await send('POST', '/api/auth/refresh', { body: { refreshToken } })
      this.#accept(await parse<TokenPair>(response))
      return true
    } catch (error) {
      // No answer is not a refusal: keep the session for the next try.
      if (error instanceof ApiError && error.code === 'Unreachable') return false
      this.expire()
      sessionStorage.removeItem(refreshTokenKey)
      return false
    }
  }

  #accept(pair: TokenPair): void {
    this.#accessToken = pair.accessToken
    this.#expiresAt = Date.now() + pair.expiresIn * 1000
    sessionStorage.setItem(refreshTokenKey, pair.refreshToken)
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.refresh(), Math.max(5_000, pair.expiresIn * 1000 - refreshMarginMs))
    const user = pair.user ?? (this.#state.status === 'signedIn' ? this.#state.user : undefined)
    if (user) this.#set({ status: 'signedIn', user })
  }

  #signedOut(expired: boolean): void {
    clearTimeout(this.#timer)
    this.#accessToken = undefined
    this.#expiresAt = 0
    sessionStorage.removeItem(refreshTokenKey)
    this.#set({ status: 'signedOut', expired })
  }

  #set(state: SessionState): void {
    this.#state = state
    for (const listener of this.#listeners) listener()
  }
}

/** The panel's one session. */
export const session = new Session()
