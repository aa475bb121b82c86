package io.ballast.pool;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Unpooled connections to {@code DATABASE_DIRECT_URL}, the database without PgBouncer in between:
 * each {@link #getConnection()} opens a session of its own, closed by {@code close()}. For the few
 * callers that need a real session (the migrations' advisory locks); everything else uses the pool.
 */
final class DirectDataSource implements DataSource {
  private final PoolSettings settings;

  DirectDataSource(PoolSettings settings) {
    this.settings = settings;
  }

  @Override
  public Connection getConnection() throws SQLException {
    var props = new Properties();
    props.setProperty("user", settings.username());
    if (settings.password() != null) {
      props.setProperty("password", settings.password());
    }
    props.setProperty("connectTimeout", Long.toString(settings.connectTimeout().toSeconds()));
    props.setProperty("ApplicationName", "ballast");
    if (settings.schema() != null) {
      props.setProperty("currentSchema", settings.schema());
    }
    settings.driverProperties().forEach(props::setProperty);
    try {
      return DriverManager.getConnection(settings.jdbcUrl(), props);
    } catch (SQLException e) {
      throw new SQLException(
          "Could not connect to the direct database URL "
              + settings.maskedUrl()
              + " (DATABASE_DIRECT_URL): "
              + Reachability.rootMessage(e),
          e.getSQLState(),
          e);
    }
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    throw new SQLFeatureNotSupportedException(
        "the direct data source connects as its configured user only");
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {
    // logging goes through SLF4J
  }

  @Override
  public void setLoginTimeout(int seconds) {
    // governed by connect_timeout
  }

  @Override
  public int getLoginTimeout() {
    return (int) settings.connectTimeout().toSeconds();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    if (iface.isInstance(this)) {
      return iface.cast(this);
    }
    throw new SQLException("not a wrapper for " + iface.getName());
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) {
    return iface.isInstance(this);
  }

  @Override
  public String toString() {
    return "DirectDataSource[" + settings.maskedUrl() + "]";
  }
}
