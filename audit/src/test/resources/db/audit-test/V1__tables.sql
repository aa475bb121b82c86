-- Tables of the audit module's tests, created by the application role (so it owns them).
create table orders (
  id        bigint generated always as identity primary key,
  tenant_id text   not null,
  owner_id  text   not null,
  amount    int    not null
);
create index orders_tenant_idx on orders (tenant_id);

create table notes (
  id       bigint generated always as identity primary key,
  owner_id text not null,
  body     text not null
);

create table customers (
  region        text   not null,
  id            bigint not null,
  name          text   not null,
  email         text,
  password_hash text,
  last_seen     timestamptz,
  primary key (region, id)
);

create table items (
  id        bigint primary key,
  tenant_id text,
  n         int not null default 0
);

create table plain_items (
  id        bigint primary key,
  tenant_id text,
  n         int not null default 0
);

select ballast_audit.enable('customers', array['password_hash', 'last_seen']::text[], array['email']::text[]);
select ballast_audit.enable('items');
