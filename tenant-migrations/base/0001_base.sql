-- Base schema of every tenant database. Runs as the tenant's own role, so the tenant owns
-- every object in its database.

create table if not exists users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  name text not null default '',
  password_hash text not null,
  role text not null default 'member' check (role in ('admin', 'member')),
  -- module permissions, e.g. {'crm', 'price-basket'}; admins hold every permission
  permissions text[] not null default '{}',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index if not exists users_email on users (lower(email));

create table if not exists settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);
