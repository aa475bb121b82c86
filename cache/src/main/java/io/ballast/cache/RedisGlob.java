package io.ballast.cache;

import java.util.regex.Pattern;

/**
 * Redis's glob syntax ({@code KEYS} / {@code SCAN MATCH}) as a Java regex, so that {@code
 * deleteByPattern} drops from every L1 exactly what it deletes from Redis.
 */
final class RedisGlob {
  private RedisGlob() {}

  /** A Redis glob ({@code * ? [abc] [^a] \x}) as a regex over {@code <region>:<key>}. */
  static Pattern toRegex(String glob) {
    var regex = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      var c = glob.charAt(i);
      switch (c) {
        case '*' -> regex.append(".*");
        case '?' -> regex.append('.');
        case '[' -> {
          var end = glob.indexOf(']', i + 1);
          if (end < 0) {
            regex.append("\\[");
          } else {
            var body = glob.substring(i + 1, end);
            regex.append('[');
            for (int j = 0; j < body.length(); j++) {
              var b = body.charAt(j);
              if (b == '^' && j == 0) {
                regex.append('^');
              } else if (b == '-' && j > 0 && j < body.length() - 1) {
                regex.append('-');
              } else {
                regex.append(
                    b == '\\' || b == '[' || b == ']' || b == '&' || b == '^' || b == '-'
                        ? "\\" + b
                        : b);
              }
            }
            regex.append(']');
            i = end;
          }
        }
        case '\\' -> {
          if (i + 1 < glob.length()) {
            regex.append(Pattern.quote(String.valueOf(glob.charAt(++i))));
          }
        }
        default -> regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL);
  }
}
