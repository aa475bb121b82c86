package io.ballast.core.settings;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Finds environment variables that look like Ballast settings but are none: {@code BALLAST_*},
 * {@code DB_*}, {@code REDIS_*} and {@code CACHE_*} names that no declared {@link Setting} answers
 * to and that are within two edits of one that does ({@code DB_CONECTION_LIMIT} → {@code
 * DB_CONNECTION_LIMIT}). A variable that is close to nothing is left alone: it may be another
 * program's. The lifecycle logs what this finds at start.
 */
public final class EnvironmentCheck {
  private static final List<String> PREFIXES = List.of("BALLAST_", "DB_", "REDIS_", "CACHE_");

  /**
   * Variables read outside {@link Setting} declarations: the URLs, the profile, the test kit's and
   * benchmarks' servers.
   */
  private static final Set<String> OTHERS =
      Set.of(
          "DATABASE_URL",
          "REDIS_URL",
          "APP_ENV",
          "BALLAST_TEST_PG_URL",
          "BALLAST_TEST_REDIS_URL",
          "BALLAST_BENCH_PG_URL",
          "BALLAST_BENCH_REDIS_URL");

  private EnvironmentCheck() {}

  /**
   * One line per mistyped variable in {@code env}, e.g. {@code DB_CONECTION_LIMIT is not a Ballast
   * setting; did you mean DB_CONNECTION_LIMIT?}, against {@code known} names.
   */
  public static List<String> mistyped(Map<String, String> env, Set<String> known) {
    var all = new TreeSet<>(known);
    all.addAll(OTHERS);
    var out = new ArrayList<String>();
    for (var name : new TreeSet<>(env.keySet())) {
      if (all.contains(name) || PREFIXES.stream().noneMatch(name::startsWith)) {
        continue;
      }
      String best = null;
      var bestDistance = Integer.MAX_VALUE;
      for (var candidate : all) {
        var d = distance(name, candidate);
        if (d < bestDistance) {
          bestDistance = d;
          best = candidate;
        }
      }
      if (best != null && bestDistance <= 2) {
        out.add(name + " is not a Ballast setting; did you mean " + best + "?");
      }
    }
    return out;
  }

  /** {@link #mistyped(Map, Set)} against every variable declared so far. */
  public static List<String> mistyped(Map<String, String> env) {
    return mistyped(env, Setting.knownVariables());
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    var previous = new int[b.length() + 1];
    var current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        var cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        current[j] =
            Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
      }
      var swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
