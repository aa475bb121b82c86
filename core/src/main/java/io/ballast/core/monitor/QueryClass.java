package io.ballast.core.monitor;

import java.util.regex.Pattern;

/**
 * Timeout classes of queries. Ballast classifies each statement from its fingerprint; callers
 * override per query or per block with {@link QueryMonitor#withTimeout(QueryClass)}.
 */
public enum QueryClass {
  /** Lookups by key and counts on one table: 1 s by default. */
  SIMPLE,
  /** Everything that is neither simple nor complex: 5 s by default. */
  STANDARD,
  /** Aggregates, GROUP BY, window functions, set operations, CTEs: 15 s by default. */
  COMPLEX,
  /**
   * Reports, opted into explicitly for a block of work: 30 s by default. Never chosen
   * automatically.
   */
  REPORT;

  private static final Pattern COMPLEX_SHAPE =
      Pattern.compile(
          "\\b(group by|having|over ?\\(|union|intersect|except|with recursive)\\b|^with\\b|\\b(sum|avg|min|max|array_agg|string_agg|jsonb_agg|json_agg)\\(");
  private static final Pattern JOIN = Pattern.compile("\\bjoin\\b");
  private static final Pattern KEY_LOOKUP =
      Pattern.compile("\\bwhere [^()]*?= ?\\?(?: limit \\?)?(?: for update)?$");
  private static final Pattern COUNT =
      Pattern.compile("^select count\\(\\*\\) from [^ ]+(?: where .*)?$");

  /** The class of a statement with this fingerprint (see {@link SqlFingerprint}). */
  public static QueryClass of(String fingerprint) {
    if (COMPLEX_SHAPE.matcher(fingerprint).find()) {
      return COMPLEX;
    }
    if (!JOIN.matcher(fingerprint).find()
        && (COUNT.matcher(fingerprint).matches() || KEY_LOOKUP.matcher(fingerprint).find())) {
      return SIMPLE;
    }
    return STANDARD;
  }
}
