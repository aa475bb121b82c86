-- The audit write benchmark's tables: the same shape, one audited, one not.
create table bench_plain (id bigint primary key, tenant_id text not null, n int not null, payload text not null);
create table bench_audited (id bigint primary key, tenant_id text not null, n int not null, payload text not null);
insert into bench_plain select g, 't1', 0, repeat('x', 64) from generate_series(1, 100000) g;
insert into bench_audited select g, 't1', 0, repeat('x', 64) from generate_series(1, 100000) g;
analyze bench_plain;
analyze bench_audited;
select ballast_audit.enable('bench_audited');
