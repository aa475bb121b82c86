package io.ballast.ops.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a {@link LoadResult} as {@code load-report.json} and as {@code load-report.html}: one
 * self-contained file (no network needed to open it) whose charts are drawn by uPlot, a charting
 * library (MIT licence) taken from its WebJar at run time and inlined with the data.
 */
public final class LoadReport {
  /** The WebJar version of uPlot (the ops module's dependency {@code org.webjars.npm:uplot}). */
  static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/dist/";

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .enable(SerializationFeature.INDENT_OUTPUT);

  private LoadReport() {}

  /** Writes both files into {@code directory} (created if missing); returns the HTML file. */
  public static Path write(LoadResult result, Path directory) throws IOException {
    Files.createDirectories(directory);
    var json = JSON.writeValueAsString(result);
    Files.writeString(directory.resolve("load-report.json"), json);
    return render(json, directory.resolve("load-report.html"));
  }

  /** Renders a {@code load-report.json}'s content as the HTML report at {@code html}. */
  public static Path render(String json, Path html) throws IOException {
    // in a <script> element, "</script" would end it: JSON keeps every '<' as an escape
    var data = json.replace("<", "\\u003c");
    var page =
        resource("load-report.html")
            .replace("/*UPLOT_CSS*/", resource(UPLOT + "uPlot.min.css"))
            .replace("/*UPLOT_JS*/", resource(UPLOT + "uPlot.iife.min.js"))
            .replace("/*DATA*/", data);
    Files.writeString(html, page);
    return html;
  }

  private static String resource(String name) {
    var loader = LoadReport.class;
    try (InputStream in =
        name.startsWith("META-INF/")
            ? loader.getClassLoader().getResourceAsStream(name)
            : loader.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(
            "missing resource " + name + " (the ops jar is incomplete)");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
