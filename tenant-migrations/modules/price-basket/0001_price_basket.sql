-- Price basket module (Cesta de Preços, runbook 003): suppliers (fornecedores), quotes
-- (orçamentos) and quote items, in cp_* tables.
-- Idempotent on purpose: reinstalling the module re-runs this file to recreate missing
-- tables and indexes without touching data ("Tabelas cp_* não existem" → reinstall). So
-- only `if not exists`, and every constraint lives inside its `create table`.

-- Trigram indexes back the quote search (ILIKE '%text%' on numero and descricao).
-- pg_trgm is a trusted extension: the tenant role, owner of its database, may create it.
create extension if not exists pg_trgm;

create table if not exists cp_fornecedores (
  id uuid primary key default gen_random_uuid(),
  nome text not null check (btrim(nome) <> ''),
  -- 14 characters, digits only once normalized (the API strips . / -); unique when given.
  cnpj text unique check (cnpj ~ '^[0-9A-Z]{12}[0-9]{2}$'),
  email text,
  telefone text,
  ativo boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists cp_orcamentos (
  id uuid primary key default gen_random_uuid(),
  numero text not null unique check (btrim(numero) <> ''),
  descricao text,
  status text not null default 'rascunho' check (status in ('rascunho', 'aberto', 'fechado', 'cancelado')),
  -- A supplier with quotes cannot be deleted (409); deactivate it (ativo = false) instead.
  fornecedor_id uuid references cp_fornecedores (id) on delete restrict,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists cp_orcamento_itens (
  id uuid primary key default gen_random_uuid(),
  orcamento_id uuid not null references cp_orcamentos (id) on delete cascade,
  descricao text not null check (btrim(descricao) <> ''),
  quantidade numeric(12, 3) not null check (quantidade > 0),
  unidade text not null default 'UN',
  preco_unitario numeric(12, 2) not null check (preco_unitario >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Runbook 003, section 6 (índices recomendados).
create index if not exists idx_cp_orcamentos_status on cp_orcamentos (status);
create index if not exists idx_cp_orcamentos_created_at on cp_orcamentos (created_at desc);
create index if not exists idx_cp_orcamentos_numero on cp_orcamentos (numero);
create index if not exists idx_cp_fornecedores_cnpj on cp_fornecedores (cnpj);
create index if not exists idx_cp_fornecedores_ativo on cp_fornecedores (ativo);
create index if not exists idx_cp_orcamento_itens_orcamento_id on cp_orcamento_itens (orcamento_id);
create index if not exists idx_cp_orcamento_itens_descricao on cp_orcamento_itens (descricao);

-- Substring search of quotes and suppliers.
create index if not exists idx_cp_orcamentos_numero_trgm on cp_orcamentos using gin (numero gin_trgm_ops);
create index if not exists idx_cp_orcamentos_descricao_trgm on cp_orcamentos using gin (descricao gin_trgm_ops);
create index if not exists idx_cp_fornecedores_nome_trgm on cp_fornecedores using gin (nome gin_trgm_ops);
