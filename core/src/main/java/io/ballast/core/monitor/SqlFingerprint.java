package io.ballast.core.monitor;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The shape of a SQL statement, with everything that varies between executions taken out: comments
 * dropped, string and number literals and bind markers ({@code ?}, {@code $1}) replaced by {@code
 * ?}, IN-lists and multi-row VALUES of any length folded into one, whitespace collapsed, lower
 * case. So {@code SELECT * FROM t WHERE id IN (?, ?)} and {@code select * from t where id in (1, 2,
 * 3, 4)} are one pattern: {@code select * from t where id in (?...)}.
 *
 * <p>A fingerprint never holds a literal, so it is safe to log and to serve. Thread-safe; recent
 * results are cached.
 */
final class SqlFingerprint {
  private static final int CACHE_LIMIT = 10_000;
  private static final ConcurrentHashMap<String, String> CACHE = new ConcurrentHashMap<>();

  private static final Pattern LINE_COMMENT = Pattern.compile("--[^\\n]*");
  private static final Pattern BLOCK_COMMENT = Pattern.compile("/\\*.*?\\*/", Pattern.DOTALL);
  private static final Pattern STRING = Pattern.compile("(?:[eE])?'(?:[^']|'')*'");
  private static final Pattern DOLLAR_PARAM = Pattern.compile("\\$\\d+");
  private static final Pattern NUMBER =
      Pattern.compile("(?<![\\w\"$.])-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?(?![\\w\"])");
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");
  private static final Pattern SPACE_IN_PARENS = Pattern.compile("\\(\\s+|\\s+\\)");
  private static final Pattern IN_LIST = Pattern.compile("\\bin \\(\\?(?:, ?\\?)*\\)");
  private static final Pattern VALUES_ROWS =
      Pattern.compile(
          "(\\((?:\\?|default|null)(?:, ?(?:\\?|default|null))*\\))(?:, ?\\((?:\\?|default|null)(?:, ?(?:\\?|default|null))*\\))+");
  private static final Pattern CAST = Pattern.compile("\\?::[a-z0-9_ \\[\\]\"]+?(?=[,) ]|$)");

  private SqlFingerprint() {}

  /** The fingerprint of {@code sql}. */
  public static String of(String sql) {
    var cached = CACHE.get(sql);
    if (cached != null) {
      return cached;
    }
    var fingerprint = compute(sql);
    if (CACHE.size() >= CACHE_LIMIT) {
      CACHE.clear(); // flat memory however many distinct statements arrive
    }
    CACHE.put(sql, fingerprint);
    return fingerprint;
  }

  static String compute(String sql) {
    var s = BLOCK_COMMENT.matcher(sql).replaceAll(" ");
    s = LINE_COMMENT.matcher(s).replaceAll(" ");
    s = STRING.matcher(s).replaceAll("?");
    s = DOLLAR_PARAM.matcher(s).replaceAll("?");
    s = NUMBER.matcher(s).replaceAll("?");
    s = WHITESPACE.matcher(s).replaceAll(" ").trim().toLowerCase(Locale.ROOT);
    s = SPACE_IN_PARENS.matcher(s).replaceAll(m -> m.group().trim());
    s = CAST.matcher(s).replaceAll("?");
    s = IN_LIST.matcher(s).replaceAll("in (?...)");
    s = VALUES_ROWS.matcher(s).replaceAll("$1, ...");
    return s;
  }
}
