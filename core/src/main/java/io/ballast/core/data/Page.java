package io.ballast.core.data;

import java.util.List;
import java.util.Optional;

/**
 * One page of a keyset-paginated query.
 *
 * @param items the rows, in the keyset's order; at most the page size
 * @param nextCursor the cursor of the next page, or {@code null} when this is the last
 * @param hasMore whether a next page exists (found by fetching one row more, never by counting)
 * @param <R> the row type
 */
public record Page<R>(List<R> items, String nextCursor, boolean hasMore) {
  /** Copies {@code items}. */
  public Page {
    items = List.copyOf(items);
  }

  /** The next page's cursor, if there is a next page. */
  public Optional<String> next() {
    return Optional.ofNullable(nextCursor);
  }
}
