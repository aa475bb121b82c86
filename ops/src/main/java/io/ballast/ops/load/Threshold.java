package io.ballast.ops.load;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A pass/fail condition on a load test's figures, written as in k6: {@code p95<100ms}, {@code
 * p99<=0.5s}, {@code error_rate<0.1%}, {@code hit_ratio>80%}, {@code rps>=200}.
 *
 * <table>
 *   <caption>Metrics</caption>
 *   <tr><td>{@code p50}, {@code p90}, {@code p95}, {@code p99}, {@code p999}, {@code max}, {@code
 *       mean}</td><td>client latency, from each request's intended start (open model); units {@code
 *       us}, {@code ms}, {@code s}</td></tr>
 *   <tr><td>{@code error_rate}</td><td>failed and dropped requests over all; {@code %} or a
 *       fraction</td></tr>
 *   <tr><td>{@code hit_ratio}</td><td>cache reads answered by either level over all cache reads
 *       during the run; {@code %} or a fraction</td></tr>
 *   <tr><td>{@code rps}</td><td>requests completed per second</td></tr>
 * </table>
 *
 * @param expression as written
 * @param metric the metric's name
 * @param operator one of {@code <}, {@code <=}, {@code >}, {@code >=}
 * @param limit the limit, in milliseconds for latencies, a fraction for rates and ratios
 */
public record Threshold(String expression, String metric, String operator, double limit) {
  private static final Pattern FORM =
      Pattern.compile(
          "\\s*([a-z_0-9]+)\\s*(<=|>=|<|>)\\s*([0-9]+(?:\\.[0-9]+)?)\\s*(us|ms|s|%)?\\s*");
  private static final List<String> LATENCIES =
      List.of("p50", "p90", "p95", "p99", "p999", "max", "mean");

  /**
   * The seeds' targets: {@code p50<20ms}, {@code p95<100ms}, {@code p99<500ms}, {@code
   * error_rate<0.1%}, {@code hit_ratio>80%}.
   */
  public static final List<Threshold> DEFAULTS =
      List.of(
          parse("p50<20ms"),
          parse("p95<100ms"),
          parse("p99<500ms"),
          parse("error_rate<0.1%"),
          parse("hit_ratio>80%"));

  /**
   * Parses {@code expression}.
   *
   * @throws IllegalArgumentException naming the expression and what is allowed
   */
  public static Threshold parse(String expression) {
    var m = FORM.matcher(expression);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "a threshold must read <metric><op><value>[unit] (p95<100ms, error_rate<0.1%,"
              + " hit_ratio>80%, rps>=200), but was \""
              + expression
              + "\"");
    }
    var metric = m.group(1);
    var value = Double.parseDouble(m.group(3));
    var unit = m.group(4);
    double limit;
    if (LATENCIES.contains(metric)) {
      if (unit == null || unit.equals("%")) {
        throw new IllegalArgumentException(
            "a latency threshold needs a unit us, ms or s, but \"" + expression + "\" has none");
      }
      limit =
          switch (unit) {
            case "us" -> value / 1000;
            case "s" -> value * 1000;
            default -> value;
          };
    } else if (metric.equals("error_rate") || metric.equals("hit_ratio")) {
      if (unit != null && !unit.equals("%")) {
        throw new IllegalArgumentException(
            metric + " is a ratio (0.1% or 0.001), but \"" + expression + "\" has unit " + unit);
      }
      limit = unit == null ? value : value / 100;
    } else if (metric.equals("rps")) {
      if (unit != null) {
        throw new IllegalArgumentException("rps takes no unit, but \"" + expression + "\" has one");
      }
      limit = value;
    } else {
      throw new IllegalArgumentException(
          "unknown threshold metric "
              + metric
              + " in \""
              + expression
              + "\"; allowed: "
              + String.join(", ", LATENCIES)
              + ", error_rate, hit_ratio, rps");
    }
    return new Threshold(expression.trim(), metric, m.group(2), limit);
  }

  /** Whether this is a latency threshold (its limit in milliseconds). */
  public boolean latency() {
    return LATENCIES.contains(metric);
  }

  /** Whether {@code actual} meets the condition. */
  public boolean holds(double actual) {
    return switch (operator) {
      case "<" -> actual < limit;
      case "<=" -> actual <= limit;
      case ">" -> actual > limit;
      default -> actual >= limit;
    };
  }

  @Override
  public String toString() {
    return expression.toLowerCase(Locale.ROOT);
  }
}
