package io.ballast.core.data;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.RecordMapper;
import org.jooq.Table;
import org.jooq.impl.DSL;

/**
 * Coalesces lookups by key, DataLoader style: {@link #load} only queues the key and returns a
 * future; {@link #dispatch()} loads every queued key with one {@code WHERE key = ANY(?)} query per
 * batch of at most {@code maxBatchSize} keys (a full batch is sent at once). So 100 callers asking
 * for 100 customers cost {@code ceil(100 / maxBatchSize)} queries instead of 100.
 *
 * <p>Create one loader per unit of work (a request, a job): it remembers what it loaded, so a key
 * asked for twice is loaded once and every caller sees the same value. Keys with no row complete as
 * empty. Thread-safe.
 *
 * <pre>{@code
 * var customers = BatchLoader.of(db, CUSTOMERS, CUSTOMERS_ID, r -> r.get(NAME), 500);
 * var a = customers.load(1L);
 * var b = customers.load(2L);
 * customers.dispatch();                           // one query for both
 * List<Optional<String>> names = customers.loadMany(List.of(3L, 4L, 1L));   // queue, dispatch, wait, in order
 * }</pre>
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class BatchLoader<K, V> {
  private final DSLContext db;
  private final Table<?> table;
  private final Field<K> key;
  private final RecordMapper<Record, V> mapper;
  private final int maxBatchSize;
  private final Map<K, CompletableFuture<Optional<V>>> loaded = new HashMap<>();
  private final Map<K, CompletableFuture<Optional<V>>> queued = new LinkedHashMap<>();
  private final AtomicInteger queries = new AtomicInteger();

  private BatchLoader(
      DSLContext db,
      Table<?> table,
      Field<K> key,
      RecordMapper<Record, V> mapper,
      int maxBatchSize) {
    this.db = db;
    this.table = table;
    this.key = key;
    this.mapper = mapper;
    this.maxBatchSize = maxBatchSize;
  }

  /**
   * A loader of rows of {@code table} by {@code key}, mapped by {@code mapper}.
   *
   * @param maxBatchSize keys per query, 1 to 10 000
   */
  public static <K, V> BatchLoader<K, V> of(
      DSLContext db,
      Table<?> table,
      Field<K> key,
      RecordMapper<Record, V> mapper,
      int maxBatchSize) {
    Objects.requireNonNull(db, "db");
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(mapper, "mapper");
    if (maxBatchSize < 1 || maxBatchSize > 10_000) {
      throw new IllegalArgumentException(
          "maxBatchSize must be between 1 and 10000, but was " + maxBatchSize);
    }
    return new BatchLoader<>(db, table, key, mapper, maxBatchSize);
  }

  /**
   * Queues {@code id}; the future completes at the next {@link #dispatch()} (or at once if already
   * loaded).
   */
  public CompletableFuture<Optional<V>> load(K id) {
    Objects.requireNonNull(id, "id");
    List<K> full = null;
    CompletableFuture<Optional<V>> future;
    synchronized (this) {
      future = loaded.get(id);
      if (future != null) {
        return future;
      }
      future = new CompletableFuture<>();
      loaded.put(id, future);
      queued.put(id, future);
      if (queued.size() >= maxBatchSize) {
        full = takeQueued();
      }
    }
    if (full != null) {
      query(full);
    }
    return future;
  }

  /**
   * Loads {@code ids} (queued with anything else pending), and returns their values in the same
   * order.
   */
  public List<Optional<V>> loadMany(List<K> ids) {
    var futures = new ArrayList<CompletableFuture<Optional<V>>>(ids.size());
    for (var id : ids) {
      futures.add(load(id));
    }
    dispatch();
    var values = new ArrayList<Optional<V>>(ids.size());
    for (var f : futures) {
      values.add(f.join());
    }
    return values;
  }

  /**
   * Sends every queued key, in batches of at most {@code maxBatchSize}, on the calling thread.
   *
   * @return the number of queries sent
   */
  public int dispatch() {
    int sent = 0;
    while (true) {
      List<K> batch;
      synchronized (this) {
        if (queued.isEmpty()) {
          return sent;
        }
        batch = takeQueued();
      }
      query(batch);
      sent++;
    }
  }

  /** Queries sent so far by this loader. */
  public int queries() {
    return queries.get();
  }

  private List<K> takeQueued() {
    var batch = new ArrayList<K>(Math.min(queued.size(), maxBatchSize));
    var it = queued.keySet().iterator();
    while (it.hasNext() && batch.size() < maxBatchSize) {
      batch.add(it.next());
      it.remove();
    }
    return batch;
  }

  @SuppressWarnings("unchecked")
  private void query(List<K> batch) {
    var keys = (K[]) Array.newInstance(key.getType(), batch.size());
    batch.toArray(keys);
    var found = new HashMap<K, V>();
    try {
      queries.incrementAndGet();
      for (var r : db.select(table.fields()).from(table).where(key.eq(DSL.any(keys))).fetch()) {
        found.put(r.get(key), mapper.map(r));
      }
    } catch (RuntimeException e) {
      for (var id : batch) {
        future(id).completeExceptionally(e);
      }
      return;
    }
    for (var id : batch) {
      future(id).complete(Optional.ofNullable(found.get(id)));
    }
  }

  private synchronized CompletableFuture<Optional<V>> future(K id) {
    return loaded.get(id);
  }
}
