-- CRM module: customers, products and leads (runbooks 002 and 004).
-- Idempotent on purpose: reinstalling the module re-runs this file to recreate missing
-- tables and indexes without touching data (module-definition.ts). So only
-- `if not exists`, and every constraint lives inside its `create table`.

-- Trigram indexes make the `?search=` substring matches (ILIKE '%text%') index-backed.
-- pg_trgm is a trusted extension: the tenant role, owner of its database, may create it.
create extension if not exists pg_trgm;

create table if not exists customers (
  id uuid primary key default gen_random_uuid(),
  name text not null check (btrim(name) <> ''),
  email text,
  phone text,
  company text,
  notes text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- One customer per email address, compared case-insensitively; customers without email are fine.
create unique index if not exists customers_email_key on customers (lower(email)) where email is not null;
create index if not exists customers_created_at_idx on customers (created_at desc, id);
create index if not exists customers_name_trgm_idx on customers using gin (name gin_trgm_ops);
create index if not exists customers_email_trgm_idx on customers using gin (email gin_trgm_ops);
create index if not exists customers_company_trgm_idx on customers using gin (company gin_trgm_ops);

create table if not exists products (
  id uuid primary key default gen_random_uuid(),
  name text not null check (btrim(name) <> ''),
  type text not null check (btrim(type) <> ''),
  price numeric(12, 2) not null check (price >= 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- A catalog has one product per name, compared case-insensitively.
create unique index if not exists products_name_key on products (lower(name));
create index if not exists products_created_at_idx on products (created_at desc, id);
create index if not exists products_name_trgm_idx on products using gin (name gin_trgm_ops);

create table if not exists leads (
  id uuid primary key default gen_random_uuid(),
  -- A lead outlives the customer record it was linked to (its own name and email stay).
  customer_id uuid references customers (id) on delete set null,
  -- A product with leads cannot be deleted (409); deactivate it instead.
  product_id uuid references products (id) on delete restrict,
  status text not null default 'new' check (status in ('new', 'contacted', 'qualified', 'won', 'lost')),
  first_name text not null check (btrim(first_name) <> ''),
  last_name text,
  email text,
  phone text,
  source text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists leads_status_idx on leads (status, created_at desc);
create index if not exists leads_created_at_idx on leads (created_at desc, id);
create index if not exists leads_customer_id_idx on leads (customer_id);
create index if not exists leads_product_id_idx on leads (product_id);
create index if not exists leads_name_trgm_idx on leads using gin ((first_name || ' ' || coalesce(last_name, '')) gin_trgm_ops);
create index if not exists leads_email_trgm_idx on leads using gin (email gin_trgm_ops);
