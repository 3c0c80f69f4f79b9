import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { publicCode, sqlState } from '../../errors.js'
import { SealedSecretError } from '../../secrets/secret-sealer.js'

/**
 * The one place errors become replies: `{ error, message }` with the error's status.
 * Coded errors (src/errors.ts) keep their code; schema validation becomes 400
 * ValidationError; anything else is a 500 that is logged in full and answered without
 * internals.
 */
export const errorHandler = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error.validation) {
        const where = error.validationContext ?? 'request'
        const detail = error.validation
          .map((v) => `${where}${v.instancePath ? v.instancePath.replace(/\//g, '.') : ''} ${v.message ?? 'is invalid'}${v.params && 'additionalProperty' in v.params ? ` (${String(v.params.additionalProperty)})` : ''}${v.params && 'allowedValues' in v.params ? `: ${(v.params.allowedValues as unknown[]).join(', ')}` : ''}`)
          .join('; ')
        return reply.status(400).send({ error: 'ValidationError', message: detail })
      }
      if (error instanceof SealedSecretError) {
        request.log.error({ err: { message: error.message } }, 'sealed secret could not be opened')
        return reply.status(500).send({ error: 'SecretUnavailable', message: 'A stored credential could not be decrypted; check that TENANTD_MASTER_KEY holds every key id in use.' })
      }
      if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        const type = String(request.headers['content-type'] ?? 'none').split(';')[0]
        return reply.status(415).send({ error: 'UnsupportedMediaType', message: `Content-Type ${type} is not accepted; send a JSON body with Content-Type: application/json` })
      }
      const state = sqlState(error)
      if (state === '22021' || state === '22P05' || state === '22P02') {
        return reply.status(400).send({ error: 'ValidationError', message: 'a value could not be stored as given (invalid text or identifier); check the request body' })
      }
      const status = error.statusCode ?? 500
      if (status >= 500 && !isCoded(error)) {
        request.log.error({ err: error }, 'unhandled error')
        return reply.status(500).send({ error: 'InternalError', message: 'Something went wrong on our side; the error is logged. Retry, and report it if it persists.' })
      }
      if (status >= 500) request.log.warn({ err: { message: error.message, code: error.code } }, 'request failed')
      if (status === 503 && !reply.hasHeader('retry-after')) reply.header('Retry-After', String((error as { retryAfterSeconds?: number }).retryAfterSeconds ?? 5))
      return reply.status(status).send({ error: fastifyCode(error, status), message: error.message })
    })

    app.setNotFoundHandler((request, reply) => {
      reply.status(404).send({ error: 'NotFound', message: `No route ${request.method} ${request.url.split('?')[0]}. See /docs for the API.` })
    })
  },
  { name: 'error-handler' }
)

/** A coded error of tenantd or fastify (as opposed to an unexpected exception). */
function isCoded(error: FastifyError): boolean {
  return typeof error.code === 'string' && error.statusCode !== undefined && !/^(E[A-Z]+|\d)/.test(error.code)
}

/** Fastify's own codes (FST_ERR_CTP_INVALID_JSON_BODY, ...) read better as plain words. */
function fastifyCode(error: FastifyError, status: number): string {
  const code = error.code ?? ''
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'PayloadTooLarge'
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'UnsupportedMediaType'
  if (code.startsWith('FST_ERR_CTP') || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'ValidationError'
  if (code.startsWith('FST_')) return status === 429 ? 'RateLimited' : 'BadRequest'
  return publicCode(code)
}
