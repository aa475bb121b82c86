package io.ballast.ops.load;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.testkit.PostgresExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTML report in a real browser: Debian's {@code chromium}, headless, opens the file with the
 * network off and runs its scripts; the page records how many charts uPlot created and how many
 * have ink on their canvas.
 */
class LoadReportBrowserTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @TempDir Path dir;

  @Test
  void theReport_rendersEveryChart_inHeadlessChromium() throws Exception {
    var options = LoadOptions.of(Profile.LOAD, 30, Duration.ofSeconds(3), dir.resolve("report"));
    LoadTest.run(new LookupScenario(), Map.of("DATABASE_URL", PG.databaseUrl()), options);
    var html = dir.resolve("report/load-report.html");

    var dom = chromium(List.of("--dump-dom", html.toUri().toString()));

    var charts = Pattern.compile("data-charts=\"(\\d+)\"").matcher(dom);
    var painted = Pattern.compile("data-painted=\"(\\d+)\"").matcher(dom);
    assertThat(charts.find()).as("the report's script ran: " + head(dom)).isTrue();
    assertThat(painted.find()).as("the charts were checked for ink").isTrue();
    assertThat(Integer.parseInt(charts.group(1))).isEqualTo(7);
    assertThat(painted.group(1)).as("charts with ink on their canvas").isEqualTo(charts.group(1));
    assertThat(dom).contains("PASSED").contains("select ? as n");
  }

  private String chromium(List<String> args) throws IOException, InterruptedException {
    var command = new ArrayList<String>();
    command.add("chromium");
    command.addAll(
        List.of(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--user-data-dir=" + Files.createDirectories(dir.resolve("profile")),
            "--virtual-time-budget=5000"));
    command.addAll(args);
    Process process;
    try {
      process =
          new ProcessBuilder(command).redirectError(dir.resolve("chromium.log").toFile()).start();
    } catch (IOException e) {
      throw new IllegalStateException(
          "chromium is not installed: it comes with Debian's chromium package (apt-get install"
              + " chromium; scripts/test.sh installs it when run as root)",
          e);
    }
    var out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("chromium finished").isTrue();
    return out;
  }

  private static String head(String s) {
    return s.length() > 2000 ? s.substring(0, 2000) : s;
  }
}
