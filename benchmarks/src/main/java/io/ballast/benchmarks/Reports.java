package io.ballast.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;

/**
 * What every ratio report shares: its heading, the command that produced it, and where it is
 * written.
 */
final class Reports {
  /** In a report file, this line and what follows it (notes written by hand) survive a new run. */
  static final String NOTES = "<!-- notes below are kept when the report is rewritten -->";

  private Reports() {}

  /** A report's title and the machine line. */
  static StringBuilder start(String title, String setup) {
    return new StringBuilder("# ")
        .append(title)
        .append("\n\nMeasured ")
        .append(LocalDate.now(java.time.ZoneOffset.UTC))
        .append(" on ")
        .append(Runtime.getRuntime().availableProcessors())
        .append(" cores, Java ")
        .append(System.getProperty("java.version"))
        .append("; ")
        .append(setup)
        .append("\n\n");
  }

  /**
   * Appends the command, prints the report, and writes it to {@code -Dballast.report=…} when given,
   * keeping the {@link #NOTES} part of the file it replaces.
   */
  static void finish(StringBuilder sb, Class<?> main, String[] args) throws IOException {
    sb.append(
            "\nCommand (from the repository root, after `./mvnw -B -ntp -DskipTests package`):\n\n```\n")
        .append("java -Dballast.report=")
        .append(System.getProperty("ballast.report", "<file>"))
        .append(" -cp benchmarks/target/benchmarks.jar ")
        .append(main.getName())
        .append(args.length == 0 ? "" : " " + String.join(" ", args))
        .append("\n```\n");
    System.out.println();
    System.out.print(sb);
    var report = System.getProperty("ballast.report");
    if (report != null) {
      var path = Path.of(report);
      var kept = "";
      if (Files.exists(path)) {
        var old = Files.readString(path);
        int notes = old.indexOf(NOTES);
        kept = notes < 0 ? "" : "\n" + old.substring(notes);
      }
      Files.writeString(path, sb + kept);
    }
  }
}
