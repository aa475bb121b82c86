package io.ballast.testkit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Records every log event of the whole application at DEBUG while open (Logback must be the SLF4J
 * backend), so a test can assert what was logged and, above all, what never was.
 *
 * <pre>{@code
 * try (var logs = new LogCapture()) {
 *   app.get(DSLContext.class).fetch("select ?", "secret");
 *   assertThat(String.join("\n", logs.lines())).doesNotContain("secret");
 * }
 * }</pre>
 */
public final class LogCapture implements AutoCloseable {
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private final Level previous = root.getLevel();
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  /** Starts recording, with {@code io.ballast} and HikariCP at DEBUG. */
  public LogCapture() {
    appender.start();
    root.addAppender(appender);
    root.setLevel(Level.DEBUG);
    ((Logger) LoggerFactory.getLogger("io.ballast")).setLevel(Level.DEBUG);
    ((Logger) LoggerFactory.getLogger("com.zaxxer.hikari")).setLevel(Level.DEBUG);
  }

  /** Formatted messages, with the exception text of each event appended. */
  public List<String> lines() {
    return appender.list.stream()
        .map(
            e ->
                e.getLevel()
                    + " "
                    + e.getFormattedMessage()
                    + (e.getThrowableProxy() == null
                        ? ""
                        : " " + e.getThrowableProxy().getMessage()))
        .toList();
  }

  @Override
  public void close() {
    root.detachAppender(appender);
    root.setLevel(previous);
    ((Logger) LoggerFactory.getLogger("io.ballast")).setLevel(Level.INFO);
    ((Logger) LoggerFactory.getLogger("com.zaxxer.hikari")).setLevel(null);
  }
}
