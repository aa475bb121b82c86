-- The demo's schema. Index builds live in migrations of their own (V2, V3): CREATE INDEX CONCURRENTLY
-- cannot run inside a transaction, so each such migration holds that one statement and nothing else.
create table customers (
  id         bigserial primary key,
  name       text not null,
  attributes jsonb not null default '{}'
);

create table orders (
  id          bigserial primary key,
  customer_id bigint not null references customers (id),
  total       numeric(12, 2) not null,
  created_at  timestamptz not null default now()
);
