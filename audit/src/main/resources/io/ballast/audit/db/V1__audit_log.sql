-- Ballast audit: the audit log, its hash chain, and the functions that enable capture and keep partitions.
-- The acting context arrives as transaction-local settings ballast.user_id, ballast.role, ballast.tenant_id,
-- ballast.client_ip and ballast.request_id (set by Ballast before the first statement of every transaction).

create schema if not exists ballast_audit;

create function ballast_audit.setting(p_name text) returns text
  language sql stable parallel safe
  as $$ select nullif(current_setting(p_name, true), '') $$;

create sequence ballast_audit.log_id_seq as bigint;

create table ballast_audit.log (
  id              bigint      not null default nextval('ballast_audit.log_id_seq'),
  at              timestamptz not null default statement_timestamp(),
  txid            bigint      not null default txid_current(),
  user_id         text        default ballast_audit.setting('ballast.user_id'),
  role            text        default ballast_audit.setting('ballast.role'),
  tenant_id       text        default ballast_audit.setting('ballast.tenant_id'),
  client_ip       text        default ballast_audit.setting('ballast.client_ip'),
  request_id      text        default ballast_audit.setting('ballast.request_id'),
  db_user         text        not null default session_user,
  table_schema    text,
  table_name      text,
  operation       text        not null check (operation in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'EVENT')),
  record_id       jsonb,
  old_row         jsonb,
  new_row         jsonb,
  changed_columns text[],
  event           text,
  event_data      jsonb,
  primary key (id, at)
) partition by range (at);

alter sequence ballast_audit.log_id_seq owned by ballast_audit.log.id;

create index log_record_idx on ballast_audit.log (table_name, record_id, at desc, id desc);
create index log_user_idx on ballast_audit.log (user_id, at desc, id desc);
create index log_table_idx on ballast_audit.log (table_name, at desc, id desc);
create index log_txid_idx on ballast_audit.log (txid, id);

create table ballast_audit.log_default partition of ballast_audit.log default;

-- The hash chain: one entry per audit row, in sealing order. hash = HMAC-SHA256(key, prev_hash || payload)
-- (SHA-256 when no key is configured); payload is ballast_audit.entry_payload(row).
create table ballast_audit.chain (
  seq       bigint      not null,
  log_id    bigint      not null,
  log_at    timestamptz not null,
  prev_hash bytea       not null,
  hash      bytea       not null,
  primary key (seq, log_at)
) partition by range (log_at);

create table ballast_audit.chain_default partition of ballast_audit.chain default;

-- Where sealing stands: every log row with (txid, id) <= (last_txid, last_id) is in the chain.
create table ballast_audit.chain_state (
  id        int         primary key check (id = 1),
  last_txid bigint      not null default 0,
  last_id   bigint      not null default 0,
  last_seq  bigint      not null default 0,
  last_hash bytea       not null default decode(repeat('00', 32), 'hex'),
  key_id    text,
  sealed_at timestamptz
);

insert into ballast_audit.chain_state (id) values (1);

create table ballast_audit.audited_tables (
  relid       oid    primary key,
  table_name  text   not null,
  key_columns text[] not null,
  excluded    text[] not null default '{}',
  redacted    text[] not null default '{}'
);

-- The canonical text a chain entry hashes. Independent of the session's TimeZone and DateStyle.
create function ballast_audit.entry_payload(l ballast_audit.log) returns text
  language sql stable parallel safe
  as $$
    select jsonb_build_array(l.id, (extract(epoch from l.at) * 1000000)::bigint, l.txid, l.user_id, l.role,
        l.tenant_id, l.client_ip, l.request_id, l.db_user, l.table_schema, l.table_name, l.operation, l.record_id,
        l.old_row, l.new_row, to_jsonb(l.changed_columns), l.event, l.event_data)::text
  $$;

create function ballast_audit.key_of(j jsonb, keys text[]) returns jsonb
  language sql immutable parallel safe
  as $$ select jsonb_object_agg(k, j -> k) from unnest(keys) k where j is not null $$;

create function ballast_audit.clean(j jsonb, excluded text[], redacted text[]) returns jsonb
  language sql immutable parallel safe
  as $$
    select (j - excluded)
        || coalesce((select jsonb_object_agg(k, to_jsonb('[redacted]'::text)) from unnest(redacted) k where j ? k),
                    '{}'::jsonb)
  $$;

-- Statement-level capture with transition tables: one INSERT ... SELECT per statement, however many rows.
create function ballast_audit.capture() returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
  as $$
declare
  cfg record;
begin
  select key_columns, excluded, redacted into cfg from ballast_audit.audited_tables where relid = TG_RELID;
  if not found then
    return null;
  end if;
  if TG_OP = 'INSERT' then
    insert into ballast_audit.log (table_schema, table_name, operation, record_id, new_row)
    select TG_TABLE_SCHEMA, TG_TABLE_NAME, 'INSERT', ballast_audit.key_of(r.j, cfg.key_columns),
           ballast_audit.clean(r.j, cfg.excluded, cfg.redacted)
      from (select to_jsonb(ballast_row) as j from ballast_new ballast_row) r;
  elsif TG_OP = 'DELETE' then
    insert into ballast_audit.log (table_schema, table_name, operation, record_id, old_row)
    select TG_TABLE_SCHEMA, TG_TABLE_NAME, 'DELETE', ballast_audit.key_of(r.j, cfg.key_columns),
           ballast_audit.clean(r.j, cfg.excluded, cfg.redacted)
      from (select to_jsonb(ballast_row) as j from ballast_old ballast_row) r;
  elsif TG_OP = 'UPDATE' then
    insert into ballast_audit.log (table_schema, table_name, operation, record_id, old_row, new_row, changed_columns)
    select TG_TABLE_SCHEMA, TG_TABLE_NAME, 'UPDATE',
           coalesce(ballast_audit.key_of(n.j, cfg.key_columns), ballast_audit.key_of(o.j, cfg.key_columns)),
           ballast_audit.clean(o.j, cfg.excluded, cfg.redacted), ballast_audit.clean(n.j, cfg.excluded, cfg.redacted),
           d.cols
      from (select to_jsonb(ballast_row) as j from ballast_old ballast_row) o
      full join (select to_jsonb(ballast_row) as j from ballast_new ballast_row) n
        on ballast_audit.key_of(o.j, cfg.key_columns) = ballast_audit.key_of(n.j, cfg.key_columns)
      cross join lateral (
        select array(select k from jsonb_object_keys(coalesce(n.j, o.j)) k
                      where k <> all (cfg.excluded) and (o.j -> k) is distinct from (n.j -> k)
                      order by k) as cols) d
     where cardinality(d.cols) > 0;
  else
    insert into ballast_audit.log (table_schema, table_name, operation)
    values (TG_TABLE_SCHEMA, TG_TABLE_NAME, 'TRUNCATE');
  end if;
  return null;
end
$$;

-- Puts a table under audit: statement-level triggers for INSERT, UPDATE, DELETE and TRUNCATE. Idempotent: a
-- second call replaces the options. Key columns default to the primary key.
create function ballast_audit.enable(p_table regclass, p_excluded text[] default '{}', p_redacted text[] default '{}',
                                     p_key_columns text[] default null) returns void
  language plpgsql
  as $$
declare
  keys text[] := p_key_columns;
  missing text;
begin
  if keys is null then
    select array_agg(a.attname::text order by array_position(i.indkey::int2[], a.attnum)) into keys
      from pg_index i
      join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey)
     where i.indrelid = p_table and i.indisprimary;
  end if;
  if keys is null or cardinality(keys) = 0 then
    raise exception 'cannot audit table %: it has no primary key; pass the key columns (p_key_columns)', p_table
      using errcode = '22023';
  end if;
  select string_agg(c, ', ') into missing
    from unnest(keys || coalesce(p_excluded, '{}') || coalesce(p_redacted, '{}')) c
   where not exists (select 1 from pg_attribute a
                      where a.attrelid = p_table and a.attname = c and a.attnum > 0 and not a.attisdropped);
  if missing is not null then
    raise exception 'cannot audit table %: it has no column %', p_table, missing using errcode = '42703';
  end if;
  if keys && coalesce(p_excluded, '{}') or keys && coalesce(p_redacted, '{}') then
    raise exception 'cannot audit table %: key columns % cannot be excluded or redacted', p_table, keys
      using errcode = '22023';
  end if;
  insert into ballast_audit.audited_tables (relid, table_name, key_columns, excluded, redacted)
  values (p_table, p_table::text, keys, coalesce(p_excluded, '{}'), coalesce(p_redacted, '{}'))
  on conflict (relid) do update
    set table_name = excluded.table_name, key_columns = excluded.key_columns, excluded = excluded.excluded,
        redacted = excluded.redacted;
  execute format('drop trigger if exists ballast_audit_insert on %s', p_table);
  execute format('drop trigger if exists ballast_audit_update on %s', p_table);
  execute format('drop trigger if exists ballast_audit_delete on %s', p_table);
  execute format('drop trigger if exists ballast_audit_truncate on %s', p_table);
  execute format('create trigger ballast_audit_insert after insert on %s referencing new table as ballast_new '
                 'for each statement execute function ballast_audit.capture()', p_table);
  execute format('create trigger ballast_audit_update after update on %s referencing old table as ballast_old '
                 'new table as ballast_new for each statement execute function ballast_audit.capture()', p_table);
  execute format('create trigger ballast_audit_delete after delete on %s referencing old table as ballast_old '
                 'for each statement execute function ballast_audit.capture()', p_table);
  execute format('create trigger ballast_audit_truncate after truncate on %s '
                 'for each statement execute function ballast_audit.capture()', p_table);
end
$$;

create function ballast_audit.disable(p_table regclass) returns void
  language plpgsql
  as $$
begin
  delete from ballast_audit.audited_tables where relid = p_table;
  execute format('drop trigger if exists ballast_audit_insert on %s', p_table);
  execute format('drop trigger if exists ballast_audit_update on %s', p_table);
  execute format('drop trigger if exists ballast_audit_delete on %s', p_table);
  execute format('drop trigger if exists ballast_audit_truncate on %s', p_table);
end
$$;

-- Monthly partitions (UTC months) of the log and the chain, from this month to p_months_ahead months ahead.
-- Rows that already fell into a default partition for a month being created are moved into it.
create function ballast_audit.ensure_partitions(p_months_ahead int) returns int
  language plpgsql
  as $$
declare
  created int := 0;
  month_start timestamptz;
  month_end timestamptz;
  part text;
  parent text;
  key text;
begin
  for i in 0..p_months_ahead loop
    month_start := (date_trunc('month', now() at time zone 'UTC') + make_interval(months => i)) at time zone 'UTC';
    month_end := ((month_start at time zone 'UTC') + interval '1 month') at time zone 'UTC';
    foreach parent in array array['log', 'chain'] loop
      key := case parent when 'log' then 'at' else 'log_at' end;
      part := format('%s_y%sm%s', parent, to_char(month_start at time zone 'UTC', 'YYYY'),
                     to_char(month_start at time zone 'UTC', 'MM'));
      if to_regclass(format('ballast_audit.%I', part)) is null then
        execute format('create temporary table ballast_moving on commit drop as '
                       'with d as (delete from ballast_audit.%I where %I >= %L and %I < %L returning *) select * from d',
                       parent || '_default', key, month_start, key, month_end);
        execute format('create table ballast_audit.%I partition of ballast_audit.%I for values from (%L) to (%L)',
                       part, parent, month_start, month_end);
        execute format('insert into ballast_audit.%I select * from ballast_moving', parent);
        drop table ballast_moving;
        created := created + 1;
      end if;
    end loop;
  end loop;
  return created;
end
$$;

-- Drops the monthly partitions (log and chain) that end at or before p_cutoff, and deletes older rows left in
-- the default partitions. Returns the names of the dropped partitions.
create function ballast_audit.drop_partitions_before(p_cutoff timestamptz) returns setof text
  language plpgsql
  as $$
declare
  r record;
begin
  for r in
    select c.relname::text as name
      from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
      join pg_class p on p.oid = i.inhparent
      join pg_namespace n on n.oid = p.relnamespace
     where n.nspname = 'ballast_audit' and p.relname in ('log', 'chain')
       and c.relname ~ '^(log|chain)_y[0-9]{4}m[0-9]{2}$'
       and (to_timestamp(substring(c.relname from 'y([0-9]{4}m[0-9]{2})$'), 'YYYY"m"MM')::timestamp
            + interval '1 month') at time zone 'UTC' <= p_cutoff
     order by 1
  loop
    execute format('drop table ballast_audit.%I', r.name);
    return next r.name;
  end loop;
  delete from ballast_audit.chain_default where log_at < p_cutoff;
  delete from ballast_audit.log_default where at < p_cutoff;
end
$$;

select ballast_audit.ensure_partitions(2);
