-- Composite index with a sort order: "a customer's latest orders" reads it in order, with no sort step.
create index concurrently if not exists orders_customer_created on orders (customer_id, created_at desc);
