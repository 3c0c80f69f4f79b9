import type { TokenPair } from '../api-types.js'
import { CliError } from '../cli-error.js'
import type { Command } from '../command.js'
import { formatTime } from '../table-format.js'
import { readSecret } from '../secret-input.js'

/** `tenantctl login --email <e>`: password from stdin, `TENANTD_PASSWORD` or a no-echo prompt. */
export const login: Command = {
  name: 'login',
  summary: 'Log in as an operator and store the session',
  options: {
    email: { type: 'string', valueName: 'email', description: 'operator email (required)' },
    'password-stdin': { type: 'boolean', description: 'read the password from stdin' },
  },
  details:
    'The password comes from --password-stdin, else TENANTD_PASSWORD, else a prompt; never from argv.\n' +
    'The session is stored in $TENANTCTL_CONFIG_DIR/credentials.json (mode 0600).',
  async run({ api, out, env, store, terminal }, input) {
    const email = input.requiredString('email')
    const password = await readSecret(terminal, {
      fromStdin: input.flag('password-stdin'),
      envVar: 'TENANTD_PASSWORD',
      env,
      prompt: `Password for ${email}: `,
      stdinFlag: '--password-stdin',
    })
    const { body } = await api.request<TokenPair>('POST', '/api/auth/login', { body: { email, password }, auth: false })
    await store.save({
      url: api.baseUrl,
      accessToken: body.accessToken,
      refreshToken: body.refreshToken,
      email,
      user: body.user,
    })
    // The tokens stay in the credentials file: stdout ends up in logs and CI output.
    if (out.json) return out.printJson({ url: api.baseUrl, expiresIn: body.expiresIn, user: body.user })
    const role = body.user?.role ? ` (${body.user.role})` : ''
    out.success(`Logged in to ${api.baseUrl} as ${email}${role}`)
  },
}

/** `tenantctl logout`: revokes the refresh token on the server and deletes the stored session. */
export const logout: Command = {
  name: 'logout',
  summary: 'Revoke the stored session and forget it',
  async run({ api, out, store }) {
    const session = await api.session()
    if (!session) {
      await store.clear()
      if (out.json) return out.printJson({ loggedOut: false })
      return out.success('Not logged in')
    }
    try {
      // No refresh-and-retry here: refreshing would spend the very token being revoked.
      await api.request('POST', '/api/auth/logout', {
        body: { refreshToken: session.refreshToken },
        headers: { authorization: `Bearer ${session.accessToken}` },
        auth: false,
      })
    } catch (error) {
      // Forget the local session anyway; say that the server may still honour it.
      out.note(`warning: could not revoke the session on ${api.baseUrl}: ${(error as Error).message}`)
    }
    await store.clear()
    if (out.json) return out.printJson({ loggedOut: true })
    out.success(`Logged out of ${session.url}`)
  },
}

/** `tenantctl whoami`: who the stored session (or `TENANTD_TOKEN`) is. */
export const whoami: Command = {
  name: 'whoami',
  summary: 'Show who tenantctl acts as',
  async run({ api, out, env }) {
    const session = env.TENANTD_TOKEN ? undefined : await api.session()
    const token = env.TENANTD_TOKEN || session?.accessToken
    if (!token) throw new CliError(`not logged in to ${api.baseUrl}`, { hint: 'run `tenantctl login --email <you>`' })
    const claims = decodeClaims(token)
    const info = {
      url: api.baseUrl,
      source: env.TENANTD_TOKEN ? 'TENANTD_TOKEN' : 'credentials file',
      email: session?.email ?? claimString(claims, 'email'),
      name: session?.user?.name ?? claimString(claims, 'name'),
      role: session?.user?.role ?? claimString(claims, 'role'),
      tenantId: session?.user?.tenantId ?? claimString(claims, 'tenantId'),
      tokenExpiresAt: typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : undefined,
    }
    if (out.json) return out.printJson(info)
    out.keyValues([
      ['URL', info.url],
      ['Email', info.email],
      ['Name', info.name],
      ['Role', info.role],
      ['Tenant', info.tenantId],
      ['Token from', info.source],
      ['Token expires', info.tokenExpiresAt ? formatTime(info.tokenExpiresAt) + ' UTC' : undefined],
    ])
  },
}

/** The payload of a JWT, unverified: only for showing who the token says it is. */
function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1]
  if (!payload) return {}
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

function claimString(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name]
  return typeof value === 'string' ? value : undefined
}

export const authCommands = [login, logout, whoami]
