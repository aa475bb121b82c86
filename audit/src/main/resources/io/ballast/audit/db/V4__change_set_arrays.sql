-- Ballast audit, version 4: change sets as arrays of row images, record keys as 64-bit hashes.
--
-- Version 3 kept a change set's rows in one jsonb array of {"k", "o", "n", "c"} objects and its keys in a
-- GIN-indexed jsonb array. Measured on 1 000-row statements, building those jsonb values cost more than the rows'
-- own write (jsonb_agg re-encodes every element), comparing old and new images key by key cost more still, and a
-- record lookup had to decode the whole change set to find its row. Since version 4 a change set holds:
--   old_rows, new_rows  json[] arrays of the rows' images, aligned by position (an INSERT has only new_rows, a
--                       DELETE only old_rows; an UPDATE both, with a null where a row's key changed). json keeps
--                       to_json's text as written, without re-encoding, and an element is reached by position;
--   key_columns         the key columns, once per statement: a row's key is read from its image;
--   key_hashes          bigint[], the 64-bit hash of each row's table and key (ballast_audit.key_hash), in the
--                       same order, GIN-indexed: a record's change sets are found through the index, its position
--                       in each through array_positions, without reading the other rows' images.
--   changed_redacted    for a table with redacted columns, json[] aligned with the rows: which redacted columns an
--                       update changed (their images both say "[redacted]"); null for other tables.
-- The other changed columns of an update are not stored: readers derive them from the old and new images
-- (ballast_audit.changed_columns), so the write path does no per-column work. Change sets of version 3 stay as
-- they were written (their seals cover their rows' text) and get key hashes, so lookups find them the same way.

alter table ballast_audit.log add column key_columns text[], add column key_hashes bigint[],
  add column old_rows json[], add column new_rows json[], add column changed_redacted json[];

-- Smaller and much faster to read back where the server was built with lz4; pglz (the default) otherwise. Set on
-- the partitioned table (new partitions take it) and on each existing partition.
do $$
declare
  t regclass;
begin
  for t in select 'ballast_audit.log'::regclass
           union all
           select inhrelid::regclass from pg_inherits where inhparent = 'ballast_audit.log'::regclass loop
    execute format('alter table %s alter column old_rows set compression lz4, alter column new_rows set compression lz4',
                   t);
  end loop;
exception when feature_not_supported or invalid_parameter_value then
  raise notice 'lz4 is not available on this server; audit change sets use the default compression';
end
$$;

-- The hash a record is found by: its table's name and its key's values, in the key columns' name order (C
-- collation), each as JSON text. A lookup with the key given as a jsonb object computes the same value; so does
-- the generated capture from the typed columns.
create function ballast_audit.key_hash(p_table text, p_key jsonb) returns bigint
  language sql immutable parallel safe
  as $$
    select hashtextextended(p_table || '/' || (select string_agg(coalesce((p_key -> k)::text, 'null'), ','
                                                                 order by k collate "C")
                                                 from jsonb_object_keys(p_key) k), 0)
  $$;

-- A row's key (a jsonb object of the key columns) from its image.
create function ballast_audit.image_key(p_image json, p_keys text[]) returns jsonb
  language sql immutable parallel safe
  as $$ select jsonb_object_agg(k, p_image::jsonb -> k) from unnest(p_keys) k where p_image is not null $$;

-- The audited columns an update changed, from its old and new images and the redacted columns it changed.
create function ballast_audit.changed_columns(p_old jsonb, p_new jsonb, p_redacted json) returns text[]
  language sql immutable parallel safe
  as $$
    select case when p_old is not null and p_new is not null then
             array(select c.k
                     from (select k from jsonb_object_keys(p_old || p_new) k
                            where (p_old -> k) is distinct from (p_new -> k)
                           union
                           select json_array_elements_text(p_redacted)) c(k)
                    order by c.k)
           end
  $$;

-- The digests of a change set's rows: 8 bytes of the SHA-256 of each row's text, in order (version 3: each
-- element of rows; since: the old image's text, a space, the new image's text, 'null' for a missing image, and
-- for a table with redacted columns a space and the changed redacted columns' JSON text).
create function ballast_audit.entry_digests(l ballast_audit.log) returns bytea
  language sql immutable parallel safe
  as $$
    select case
             when l.rows is not null then ballast_audit.row_digests(l.rows)
             when l.key_hashes is not null then
               (select string_agg(substring(sha256(convert_to(coalesce(e.o::text, 'null') || ' '
                                                              || coalesce(e.n::text, 'null')
                                                              || coalesce(' ' || e.r::text, ''), 'UTF8'))
                                            from 1 for 8), ''::bytea order by e.i)
                  from unnest(l.old_rows, l.new_rows, l.changed_redacted) with ordinality as e(o, n, r, i))
           end
  $$;

drop function ballast_audit.record_entries(text, text, jsonb);
drop view ballast_audit.entries;
drop index ballast_audit.log_record_ids_idx;

-- Version 3 change sets are found through key hashes too.
update ballast_audit.log l
   set key_hashes = array(select ballast_audit.key_hash(l.table_name, e.v -> 'k')
                            from jsonb_array_elements(l.rows) with ordinality as e(v, o) order by e.o)
 where l.rows is not null;

-- Each search reads the whole pending list of new, not yet merged entries: a smaller list (256 kB instead of the
-- server's 4 MB default) keeps a lookup to a few pages, merged in smaller, more frequent steps.
create index log_key_hashes_idx on ballast_audit.log using gin (key_hashes) with (gin_pending_list_limit = 256);

-- The canonical text a chain entry hashes besides its row digests. Per-row entries of version 2 and change sets
-- of version 3 as before; a change set since version 4 carries its row count, key columns and key hashes.
create or replace function ballast_audit.entry_payload(l ballast_audit.log) returns text
  language sql stable parallel safe
  as $$
    select case
      when l.rows is not null then
        jsonb_build_array('change-set', l.id, (extract(epoch from l.at) * 1000000)::bigint, l.txid, l.user_id,
          l.role, l.tenant_id, l.client_ip, l.request_id, l.db_user, l.table_schema, l.table_name, l.operation,
          l.row_count, l.record_ids)::text
      when l.key_hashes is not null then
        jsonb_build_array('change-set-4', l.id, (extract(epoch from l.at) * 1000000)::bigint, l.txid, l.user_id,
          l.role, l.tenant_id, l.client_ip, l.request_id, l.db_user, l.table_schema, l.table_name, l.operation,
          l.row_count, to_jsonb(l.key_columns), to_jsonb(l.key_hashes))::text
      else
        jsonb_build_array(l.id, (extract(epoch from l.at) * 1000000)::bigint, l.txid, l.user_id, l.role,
          l.tenant_id, l.client_ip, l.request_id, l.db_user, l.table_schema, l.table_name, l.operation, l.record_id,
          l.old_row, l.new_row, to_jsonb(l.changed_columns), l.event, l.event_data)::text
      end
  $$;

-- The SQL of the expressions the generated capture uses for the transition row ballast_row: its image, and its
-- key's text (the values as JSON text, in the key columns' name order), from which the key hash is computed.
create function ballast_audit.image_sql(p_excluded text[], p_redacted text[]) returns text
  language sql immutable
  as $$
    select case when cardinality(p_excluded) = 0 and cardinality(p_redacted) = 0 then 'to_json(ballast_row)'
                else '(' || ballast_audit.clean_sql('to_jsonb(ballast_row)', p_excluded, p_redacted) || ')::json' end
  $$;

create function ballast_audit.key_text_sql(p_keys text[]) returns text
  language sql immutable
  as $$
    select 'concat_ws('','', '
           || string_agg(format('coalesce(to_json(ballast_row.%I)::text, ''null'')', k), ', ' order by k collate "C")
           || ')'
      from unnest(p_keys) k
  $$;

-- Writes (or rewrites) the trigger function of one table: one change set per statement, built in one
-- INSERT ... SELECT over the transition table. The images are json (to_json of the row; through jsonb only when
-- columns are excluded or redacted). An UPDATE joins old and new rows on their key's text and keeps the rows whose
-- audited image changed; a row whose key changed appears twice, as its old key and as its new one.
create or replace function ballast_audit.generate_capture(p_table regclass, p_keys text[], p_excluded text[],
                                                          p_redacted text[])
  returns text
  language plpgsql
  as $$
declare
  fn text := ballast_audit.capture_function(p_table);
begin
  execute format($f$
create or replace function %1$s() returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
  as $body$
begin
  if TG_OP = 'INSERT' then
    insert into ballast_audit.log (table_schema, table_name, operation, row_count, key_columns, key_hashes, new_rows)
    select TG_TABLE_SCHEMA, TG_TABLE_NAME, 'INSERT', count(*), %3$L, array_agg(hashtextextended(TG_TABLE_NAME || '/' || x.kt, 0)),
           array_agg(x.img)
      from (select %2$s from ballast_new ballast_row offset 0) x
    having count(*) > 0;
  elsif TG_OP = 'UPDATE' then
    insert into ballast_audit.log (table_schema, table_name, operation, row_count, key_columns, key_hashes, old_rows,
                                   new_rows, changed_redacted)
    select TG_TABLE_SCHEMA, TG_TABLE_NAME, 'UPDATE', count(*), %3$L,
           array_agg(hashtextextended(TG_TABLE_NAME || '/' || coalesce(n.kt, o.kt), 0)), array_agg(o.img),
           array_agg(n.img), %4$s
      from (select %2$s from ballast_old ballast_row offset 0) o
      full join (select %2$s from ballast_new ballast_row offset 0) n on o.kt = n.kt
     where o.img::text is distinct from n.img::text %5$s
    having count(*) > 0;
  elsif TG_OP = 'DELETE' then
    insert into ballast_audit.log (table_schema, table_name, operation, row_count, key_columns, key_hashes, old_rows)
    select TG_TABLE_SCHEMA, TG_TABLE_NAME, 'DELETE', count(*), %3$L, array_agg(hashtextextended(TG_TABLE_NAME || '/' || x.kt, 0)),
           array_agg(x.img)
      from (select %2$s from ballast_old ballast_row offset 0) x
    having count(*) > 0;
  else
    insert into ballast_audit.log (table_schema, table_name, operation) values (TG_TABLE_SCHEMA, TG_TABLE_NAME, 'TRUNCATE');
  end if;
  return null;
end
$body$
$f$, fn,
     format('%s as kt, %s as img', ballast_audit.key_text_sql(p_keys), ballast_audit.image_sql(p_excluded, p_redacted))
       || case when cardinality(p_redacted) > 0 then ', to_jsonb(ballast_row) as raw' else '' end,
     p_keys,
     case when cardinality(p_redacted) > 0 then
       format('array_agg(to_json(array(select k from unnest(%L::text[]) k where (o.raw -> k) is distinct from (n.raw -> k) '
              'order by k)))', p_redacted)
     else 'null::json[]' end,
     case when cardinality(p_redacted) > 0 then
       format('or exists (select from unnest(%L::text[]) k where (o.raw -> k) is distinct from (n.raw -> k))', p_redacted)
     else '' end);
  return fn;
end
$$;

-- Every audit entry as per-row entries: a change set's rows unnested (ord 1, 2, …), entries of version 2,
-- TRUNCATEs and events as they are (ord 0). Filters on the statement's columns reach the log's indexes.
create view ballast_audit.entries as
  select l.id, 0 as ord, l.at, l.txid, l.user_id, l.role, l.tenant_id, l.client_ip, l.request_id, l.db_user,
         l.table_schema, l.table_name, l.operation, l.record_id, l.old_row, l.new_row, l.changed_columns, l.event,
         l.event_data
    from ballast_audit.log l
   where l.rows is null and l.key_hashes is null
  union all
  select l.id, e.o::int, l.at, l.txid, l.user_id, l.role, l.tenant_id, l.client_ip, l.request_id, l.db_user,
         l.table_schema, l.table_name, l.operation, e.v -> 'k', e.v -> 'o', e.v -> 'n',
         case when e.v ? 'c' then array(select jsonb_array_elements_text(e.v -> 'c')) end, null::text, null::jsonb
    from ballast_audit.log l
   cross join lateral jsonb_array_elements(l.rows) with ordinality as e(v, o)
   where l.rows is not null
  union all
  select l.id, e.i::int, l.at, l.txid, l.user_id, l.role, l.tenant_id, l.client_ip, l.request_id, l.db_user,
         l.table_schema, l.table_name, l.operation, ballast_audit.image_key(coalesce(e.n, e.o), l.key_columns),
         e.o::jsonb, e.n::jsonb, ballast_audit.changed_columns(e.o::jsonb, e.n::jsonb, e.r), null::text, null::jsonb
    from ballast_audit.log l
   cross join lateral unnest(l.old_rows, l.new_rows, l.changed_redacted) with ordinality as e(o, n, r, i)
   where l.rows is null and l.key_hashes is not null;

-- Where one record's entries are (table name, optional schema, key as a jsonb object): entries of version 2
-- through their index on record_id, change sets through the GIN index on key_hashes and the record's position
-- in each through array_positions. Reads no row images; ballast_audit.entries_at reads the entries themselves.
-- The planner does not count the cost of detoasting key_hashes, so a sequential scan of the log (small, as its
-- arrays live in TOAST) looks cheaper than the index and is 100 to 1 000 times slower: this function plans without
-- sequential scans, and its table filter is written so that it is not taken for an index condition either.
create function ballast_audit.record_positions(p_schema text, p_table text, p_key jsonb)
  returns table (id bigint, at timestamptz, ord int, tenant_id text)
  language sql stable
  set enable_seqscan = off
  as $$
    select l.id, l.at, 0, l.tenant_id
      from ballast_audit.log l
     where l.rows is null and l.key_hashes is null and l.record_id = p_key and l.table_name = p_table
       and (p_schema is null or l.table_schema = p_schema)
    union all
    select l.id, l.at, p.pos, l.tenant_id
      from ballast_audit.log l
     cross join lateral unnest(array_positions(l.key_hashes, ballast_audit.key_hash(p_table, p_key))) as p(pos)
     where l.key_hashes @> array[ballast_audit.key_hash(p_table, p_key)] and coalesce(l.table_name, '') = p_table
       and (p_schema is null or l.table_schema = p_schema)
  $$;

-- The entries at the given positions (log id and ord, as record_positions returns them), each change set's row
-- read by its position. Each entry is looked up by its id (a probe of the primary key per position, planned
-- without sequential scans for the reason given above).
create function ballast_audit.entries_at(p_ids bigint[], p_ords int[])
  returns setof ballast_audit.entries
  language sql stable
  set enable_seqscan = off
  as $$
    select l.id, p.ord, l.at, l.txid, l.user_id, l.role, l.tenant_id, l.client_ip, l.request_id, l.db_user,
           l.table_schema, l.table_name, l.operation,
           case when l.rows is not null then x.v -> 'k'
                when l.key_hashes is not null then ballast_audit.image_key(coalesce(x.n, x.o), l.key_columns)
                else l.record_id end,
           case when l.rows is not null then x.v -> 'o' when l.key_hashes is not null then x.o::jsonb
                else l.old_row end,
           case when l.rows is not null then x.v -> 'n' when l.key_hashes is not null then x.n::jsonb
                else l.new_row end,
           case when l.rows is not null then
                  case when x.v ? 'c' then array(select jsonb_array_elements_text(x.v -> 'c')) end
                when l.key_hashes is not null then ballast_audit.changed_columns(x.o::jsonb, x.n::jsonb, x.r)
                else l.changed_columns end,
           l.event, l.event_data
      from unnest(p_ids, p_ords) as p(id, ord)
     cross join lateral (select * from ballast_audit.log e where e.id = p.id) l
     cross join lateral (select l.rows -> (p.ord - 1) as v, l.old_rows[p.ord] as o, l.new_rows[p.ord] as n,
                                l.changed_redacted[p.ord] as r offset 0) x
  $$;

-- One record's entries, for SQL callers: record_positions, then entries_at.
create function ballast_audit.record_entries(p_schema text, p_table text, p_key jsonb)
  returns setof ballast_audit.entries
  language sql stable
  as $$
    select e.*
      from (select array_agg(id) as ids, array_agg(ord) as ords
              from ballast_audit.record_positions(p_schema, p_table, p_key)) p
     cross join lateral ballast_audit.entries_at(p.ids, p.ords) e
  $$;

-- Regenerate the audited tables' capture.
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
