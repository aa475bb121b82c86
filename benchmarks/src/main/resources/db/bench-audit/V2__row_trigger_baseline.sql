-- The open-source baseline for the audit benchmark: the same table audited the way supa_audit and audit-trigger
-- do it, one row-level AFTER trigger that writes one audit row per changed row. Written here from supa_audit's
-- documented design (https://github.com/supabase/supa_audit: record_version table with record/old_record jsonb,
-- a uuid record id derived from the table and primary key, indexes on record_id, old_record_id, table_oid and a
-- BRIN on ts, primary key columns looked up from pg_index for every row); not their code. One deviation: the
-- record id is an md5-based uuid instead of uuid_generate_v5, so the baseline needs no uuid-ossp extension.
create table bench_rowtrigger (id bigint primary key, tenant_id text not null, n int not null, payload text not null);
insert into bench_rowtrigger select g, 't1', 0, repeat('x', 64) from generate_series(1, 100000) g;
analyze bench_rowtrigger;

create schema bench_rowaudit;

create table bench_rowaudit.record_version (
  id            bigserial   primary key,
  record_id     uuid,
  old_record_id uuid,
  op            text        not null,
  ts            timestamptz not null default now(),
  table_oid     oid         not null,
  table_schema  name        not null,
  table_name    name        not null,
  record        jsonb,
  old_record    jsonb
);
create index record_version_record_id on bench_rowaudit.record_version (record_id) where record_id is not null;
create index record_version_old_record_id on bench_rowaudit.record_version (old_record_id)
  where old_record_id is not null;
create index record_version_ts on bench_rowaudit.record_version using brin (ts);
create index record_version_table_oid on bench_rowaudit.record_version (table_oid);

create function bench_rowaudit.key_columns(p_table oid) returns text[]
  language sql stable
  as $$
    select coalesce(array_agg(a.attname::text order by a.attnum), '{}')
      from pg_index i
      join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey)
     where i.indrelid = p_table and i.indisprimary
  $$;

create function bench_rowaudit.record_id(p_table oid, p_keys text[], p_record jsonb) returns uuid
  language sql stable
  as $$
    select case when p_record is null or cardinality(p_keys) = 0 then null
                else md5(p_table::text || (select jsonb_agg(p_record -> k) from unnest(p_keys) k)::text)::uuid end
  $$;

create function bench_rowaudit.capture() returns trigger
  language plpgsql security definer
  as $$
declare
  keys text[] := bench_rowaudit.key_columns(TG_RELID);
  rec jsonb := case when TG_OP in ('INSERT', 'UPDATE') then to_jsonb(new) end;
  old_rec jsonb := case when TG_OP in ('UPDATE', 'DELETE') then to_jsonb(old) end;
begin
  insert into bench_rowaudit.record_version (record_id, old_record_id, op, table_oid, table_schema, table_name,
                                             record, old_record)
  values (bench_rowaudit.record_id(TG_RELID, keys, rec), bench_rowaudit.record_id(TG_RELID, keys, old_rec), TG_OP,
          TG_RELID, TG_TABLE_SCHEMA, TG_TABLE_NAME, rec, old_rec);
  return coalesce(new, old);
end
$$;

create trigger bench_rowaudit_capture after insert or update or delete on bench_rowtrigger
  for each row execute function bench_rowaudit.capture();
