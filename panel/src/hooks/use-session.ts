import { useEffect, useState } from 'preact/hooks'
import { session, type SessionState } from '../api/session.js'

/** The session's state, re-rendering the caller when it changes. */
export function useSession(): SessionState {
  const [state, setState] = useState(session.state)
  useEffect(() => session.subscribe(() => setState(session.state)), [])
  return state
}
