-- Ballast audit, version 3: one log entry per statement and table (a change set).
--
-- Version 2 wrote one log row per changed row: a 1 000-row statement became 1 000 audit rows, each with two jsonb
-- images, five index entries and its own chain entry. Now a statement's changed rows go into one entry:
--   rows        a jsonb array, one element per changed row: {"k": key, "n": new image} for an insert,
--               {"k", "o": old image} for a delete, {"k", "o", "n", "c": [changed columns]} for an update;
--   record_ids  the array of the rows' keys, GIN-indexed (jsonb_path_ops), so a record's history is found
--               without reading other statements' rows;
--   row_count   how many rows.
-- The acting context, table, operation and time are stored once per statement. Entries written by earlier
-- versions keep their per-row columns (record_id, old_row, new_row, changed_columns) and stay readable and
-- verifiable: the view ballast_audit.entries shows both kinds as per-row entries.
--
-- The hash chain seals change sets. A chain entry holds the digests of its rows (8 bytes of SHA-256 each, in
-- order), and its hash covers the entry's header and those digests: hash = H(key, prev || payload || digests).
-- Verification can thus name the row of a change set that was modified.
--
-- Key rotation: ballast_audit.chain_keys marks from which chain position each key seals.

alter table ballast_audit.log add column row_count int, add column record_ids jsonb, add column rows jsonb;

create index log_record_ids_idx on ballast_audit.log using gin (record_ids jsonb_path_ops);

alter table ballast_audit.chain add column row_digests bytea;

create table ballast_audit.chain_keys (
  from_seq  bigint      primary key,
  key_id    text        not null,
  marked_at timestamptz not null default now()
);

-- The canonical text a chain entry hashes besides its row digests. Unchanged for per-row entries of earlier
-- versions (rows is null), so their seals still verify; a change set's header carries its row count and keys.
create or replace function ballast_audit.entry_payload(l ballast_audit.log) returns text
  language sql stable parallel safe
  as $$
    select case when l.rows is null then
        jsonb_build_array(l.id, (extract(epoch from l.at) * 1000000)::bigint, l.txid, l.user_id, l.role,
          l.tenant_id, l.client_ip, l.request_id, l.db_user, l.table_schema, l.table_name, l.operation, l.record_id,
          l.old_row, l.new_row, to_jsonb(l.changed_columns), l.event, l.event_data)::text
      else
        jsonb_build_array('change-set', l.id, (extract(epoch from l.at) * 1000000)::bigint, l.txid, l.user_id,
          l.role, l.tenant_id, l.client_ip, l.request_id, l.db_user, l.table_schema, l.table_name, l.operation,
          l.row_count, l.record_ids)::text
      end
  $$;

-- The digests of a change set's rows: 8 bytes of the SHA-256 of each element's text, in order; null for an
-- entry without rows.
create function ballast_audit.row_digests(p_rows jsonb) returns bytea
  language sql immutable parallel safe
  as $$
    select string_agg(substring(sha256(convert_to(e.v::text, 'UTF8')) from 1 for 8), ''::bytea order by e.o)
      from jsonb_array_elements(p_rows) with ordinality as e(v, o)
  $$;

-- Writes (or rewrites) the trigger function of one table: one change set per statement.
create or replace function ballast_audit.generate_capture(p_table regclass, p_keys text[], p_excluded text[],
                                                          p_redacted text[])
  returns text
  language plpgsql
  as $$
declare
  fn text := ballast_audit.capture_function(p_table);
  join_on text;
begin
  select string_agg(format('(o.j -> %L) = (n.j -> %L)', k, k), ' and ') into join_on from unnest(p_keys) k;
  -- As in version 2: the images are built once per row (OFFSET 0), the old and new images of an UPDATE are
  -- joined on hashable key values, and the function is SECURITY DEFINER. The rows are aggregated into one
  -- entry; a statement that changed nothing audited writes none.
  execute format($f$
create or replace function %1$s() returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
  as $body$
begin
  if TG_OP = 'INSERT' then
    insert into ballast_audit.log (table_schema, table_name, operation, row_count, record_ids, rows)
    select TG_TABLE_SCHEMA, TG_TABLE_NAME, 'INSERT', count(*), jsonb_agg(x.k),
           jsonb_agg(jsonb_build_object('k', x.k, 'n', x.img))
      from (select %2$s as k, %3$s as img
              from (select to_jsonb(ballast_row) as j from ballast_new ballast_row offset 0) r offset 0) x
    having count(*) > 0;
  elsif TG_OP = 'UPDATE' then
    insert into ballast_audit.log (table_schema, table_name, operation, row_count, record_ids, rows)
    select TG_TABLE_SCHEMA, TG_TABLE_NAME, 'UPDATE', count(*), jsonb_agg(x.k),
           jsonb_agg(jsonb_build_object('k', x.k, 'o', x.o, 'n', x.n, 'c', to_jsonb(x.cols)))
      from (select %4$s as k, %5$s as o, %6$s as n, d.cols
              from (select o.j, n.j,
                           array(select k from jsonb_object_keys(coalesce(n.j, o.j)) k
                                  where k <> all (%7$L::text[]) and (o.j -> k) is distinct from (n.j -> k) order by k)
                      from (select to_jsonb(ballast_row) as j from ballast_old ballast_row offset 0) o
                      full join (select to_jsonb(ballast_row) as j from ballast_new ballast_row offset 0) n on %8$s
                    offset 0) d(o, n, cols)
             where cardinality(d.cols) > 0 offset 0) x
    having count(*) > 0;
  elsif TG_OP = 'DELETE' then
    insert into ballast_audit.log (table_schema, table_name, operation, row_count, record_ids, rows)
    select TG_TABLE_SCHEMA, TG_TABLE_NAME, 'DELETE', count(*), jsonb_agg(x.k),
           jsonb_agg(jsonb_build_object('k', x.k, 'o', x.img))
      from (select %2$s as k, %3$s as img
              from (select to_jsonb(ballast_row) as j from ballast_old ballast_row offset 0) r offset 0) x
    having count(*) > 0;
  else
    insert into ballast_audit.log (table_schema, table_name, operation) values (TG_TABLE_SCHEMA, TG_TABLE_NAME, 'TRUNCATE');
  end if;
  return null;
end
$body$
$f$, fn,
     ballast_audit.key_sql('r.j', p_keys), ballast_audit.clean_sql('r.j', p_excluded, p_redacted),
     ballast_audit.key_sql('coalesce(d.n, d.o)', p_keys),
     ballast_audit.clean_sql('d.o', p_excluded, p_redacted), ballast_audit.clean_sql('d.n', p_excluded, p_redacted),
     p_excluded, join_on);
  return fn;
end
$$;

-- Every audit entry as per-row entries: a change set's rows unnested (ord 1, 2, …), entries of earlier versions,
-- TRUNCATEs and events as they are (ord 0). Filters on the statement's columns reach the log's indexes.
create view ballast_audit.entries as
  select l.id, 0 as ord, l.at, l.txid, l.user_id, l.role, l.tenant_id, l.client_ip, l.request_id, l.db_user,
         l.table_schema, l.table_name, l.operation, l.record_id, l.old_row, l.new_row, l.changed_columns, l.event,
         l.event_data
    from ballast_audit.log l
   where l.rows is null
  union all
  select l.id, e.o::int, l.at, l.txid, l.user_id, l.role, l.tenant_id, l.client_ip, l.request_id, l.db_user,
         l.table_schema, l.table_name, l.operation, e.v -> 'k', e.v -> 'o', e.v -> 'n',
         case when e.v ? 'c' then array(select jsonb_array_elements_text(e.v -> 'c')) end, null::text, null::jsonb
    from ballast_audit.log l
   cross join lateral jsonb_array_elements(l.rows) with ordinality as e(v, o)
   where l.rows is not null;

-- One record's entries (table name, optional schema, key as a jsonb object), through the hash index on the
-- per-row record_id of earlier versions and the GIN index on the change sets' keys.
create function ballast_audit.record_entries(p_schema text, p_table text, p_key jsonb)
  returns setof ballast_audit.entries
  language sql stable
  as $$
    select l.id, 0, l.at, l.txid, l.user_id, l.role, l.tenant_id, l.client_ip, l.request_id, l.db_user,
           l.table_schema, l.table_name, l.operation, l.record_id, l.old_row, l.new_row, l.changed_columns, l.event,
           l.event_data
      from ballast_audit.log l
     where l.rows is null and l.record_id = p_key and l.table_name = p_table
       and (p_schema is null or l.table_schema = p_schema)
    union all
    select l.id, e.o::int, l.at, l.txid, l.user_id, l.role, l.tenant_id, l.client_ip, l.request_id, l.db_user,
           l.table_schema, l.table_name, l.operation, e.v -> 'k', e.v -> 'o', e.v -> 'n',
           case when e.v ? 'c' then array(select jsonb_array_elements_text(e.v -> 'c')) end, null::text, null::jsonb
      from ballast_audit.log l
     cross join lateral jsonb_array_elements(l.rows) with ordinality as e(v, o)
     where l.record_ids @> jsonb_build_array(p_key) and l.table_name = p_table
       and (p_schema is null or l.table_schema = p_schema) and e.v -> 'k' = p_key
  $$;

-- Move the audited tables to change-set capture.
do $$
declare
  t record;
begin
  for t in select relid, key_columns, excluded, redacted from ballast_audit.audited_tables
             where exists (select 1 from pg_class c where c.oid = relid) loop
    perform ballast_audit.enable(t.relid::regclass, t.excluded, t.redacted, t.key_columns);
  end loop;
end
$$;
