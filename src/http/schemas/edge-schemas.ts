import { Type, type Static } from 'typebox'
import { Nullable } from './common-schemas.js'

export const EdgeStatusSchema = Type.Object(
  {
    apply: Type.Union([Type.Literal('off'), Type.Literal('reload'), Type.Literal('admin-api')], { description: 'TENANTD_CADDY: how the rendered file reaches Caddy' }),
    mode: Type.Union([Type.Literal('blocks'), Type.Literal('on-demand')], { description: 'TENANTD_EDGE_MODE' }),
    file: Type.String({ description: 'the rendered Caddyfile' }),
    template: Type.String(),
    caddy: Type.Object({ found: Type.Boolean(), version: Nullable(Type.String()), admin: Type.String(), reloads: Type.Union([Type.Literal('on'), Type.Literal('off')]) }),
    generation: Type.Object({
      current: Type.Integer({ description: 'routing generation in the catalog' }),
      rendered: Type.Integer({ description: 'generation of the file on disk' }),
      applied: Type.Integer({ description: 'generation Caddy runs' }),
    }),
    upToDate: Type.Boolean(),
    reloads: Type.Integer({ description: 'reloads done since the catalog was created' }),
    addresses: Nullable(Type.Integer({ description: 'routed addresses in the last render seen by this replica' })),
    lastRenderAt: Nullable(Type.String({ format: 'date-time' })),
    lastReloadAt: Nullable(Type.String({ format: 'date-time' })),
    lastError: Nullable(Type.String()),
    lastErrorAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { description: 'What the edge (Caddy) runs, and what it last did' }
)
export type EdgeStatusBody = Static<typeof EdgeStatusSchema>
