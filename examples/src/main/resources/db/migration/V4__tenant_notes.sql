-- Notes kept per tenant: under row-level security (the statements RowSecurity.table("notes")
-- .tenantColumn("tenant_id", "text").build().ddl() generates) and under audit.
create table notes (
  id        bigserial primary key,
  tenant_id text not null,
  author    text not null,
  body      text not null
);
create index notes_tenant_idx on notes (tenant_id);

alter table "notes" enable row level security;
alter table "notes" force row level security;
drop policy if exists ballast_rls on "notes";
create policy ballast_rls on "notes" for all
  using (("tenant_id" = nullif(current_setting('ballast.tenant_id', true), '')::text)
         or nullif(current_setting('ballast.role', true), '') = 'admin')
  with check (("tenant_id" = nullif(current_setting('ballast.tenant_id', true), '')::text)
              or nullif(current_setting('ballast.role', true), '') = 'admin');

select ballast_audit.enable('notes');
