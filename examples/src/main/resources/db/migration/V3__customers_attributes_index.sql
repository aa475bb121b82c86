-- GIN with jsonb_path_ops: smaller and faster than the default jsonb_ops for containment (@>) queries,
-- which are the only ones it serves.
create index concurrently if not exists customers_attributes on customers using gin (attributes jsonb_path_ops);
