package io.ballast.core.settings;

import java.util.regex.Pattern;

/**
 * Renders connection URLs for messages and logs without their credentials: what every Ballast
 * module shows of {@code DATABASE_URL} and {@code REDIS_URL}, and what a module of an application's
 * own should show of its URLs.
 *
 * <p>Redaction does not depend on the URL being well formed or on agreeing with any parser:
 * everything up to the last {@code @} is credentials as far as a message is concerned (whatever a
 * password holds, {@code /}, {@code ?}, {@code #}, {@code :} or {@code @} included, the last
 * {@code @} ends it or follows it), and the value of a {@code password} or {@code sslpassword}
 * parameter runs to the next {@code &name=}.
 */
public final class Urls {
  private static final Pattern PASSWORD_PARAMETER =
      Pattern.compile(
          "(?i)([?&;](?:(?:ssl)?password|user)=).*?(?=&[A-Za-z_][A-Za-z0-9_.-]*=|$)",
          Pattern.DOTALL);

  private Urls() {}

  /**
   * {@code url} with its user information replaced by {@code ****} and its user and password
   * parameters by {@code ****}: {@code postgresql://****@db:5432/app}. Never returns any character
   * of a user name or password.
   */
  public static String redact(String url) {
    if (url == null) {
      return null;
    }
    var s = PASSWORD_PARAMETER.matcher(url).replaceAll("$1****");
    var at = s.lastIndexOf('@');
    if (at < 0) {
      return s;
    }
    var scheme = s.indexOf("://");
    var head = scheme >= 0 && scheme < at ? s.substring(0, scheme + 3) : "";
    return head + "****" + s.substring(at);
  }

  /**
   * Where the user information of {@code rest} (a URL after its {@code scheme://}) ends: the index
   * of the {@code @} that closes it, or -1 when there is none. A password may hold unencoded {@code
   * /}, {@code ?} and {@code @}: the closing {@code @} is the last one, unless it stands in a query
   * that follows a path.
   */
  public static int userInfoEnd(String rest) {
    var last = rest.lastIndexOf('@');
    if (last < 0) {
      return -1;
    }
    var q = rest.indexOf('?');
    if (q < 0 || last < q) {
      return last;
    }
    // An @ after the first ?: either the ? belongs to the password or the @ to a parameter
    // (?user=a@b).
    var before = rest.lastIndexOf('@', q);
    var slash = rest.indexOf('/', before + 1);
    if (slash >= 0 && slash < q) {
      return before; // host/db?…: a real query, the @ is a parameter's
    }
    return last;
  }
}
