package io.ballast.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy on loopback that tests put between a client and a real PostgreSQL or Redis to make
 * outages happen for real: the client talks to {@link #host()}:{@link #port()}, the proxy forwards
 * to the server.
 *
 * <ul>
 *   <li>{@link #restore()}: pass everything through (the initial mode);
 *   <li>{@link #cut()}: reset every open connection and refuse new ones, like a server that went
 *       away;
 *   <li>{@link #delay(Duration)}: forward everything, each chunk late by the given latency, both
 *       ways;
 *   <li>{@link #blackhole()}: accept connections and swallow what they send, never answering, like
 *       a network partition that drops packets.
 * </ul>
 *
 * <p>Connections that lost bytes to the black hole are reset by {@link #restore()}, since their
 * protocol stream is broken; connections that were merely idle survive it. Thread-safe.
 *
 * <pre>{@code
 * try (var proxy = FaultProxy.to(PG.server().host(), PG.server().port())) {
 *   // point the pool at jdbc:postgresql://127.0.0.1:<proxy.port()>/...
 *   proxy.cut();      // the database "goes away"
 *   proxy.restore();  // and comes back
 * }
 * }</pre>
 */
public final class FaultProxy implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FaultProxy.class);
  private static final AtomicInteger IDS = new AtomicInteger();

  /** What the proxy does with traffic. */
  public enum Mode {
    /** Bytes pass through unchanged. */
    PASS,
    /** Bytes pass through after the configured latency. */
    DELAY,
    /** Connections stay open, nothing passes, ever. */
    BLACKHOLE,
    /** Every connection is closed and new ones are refused. */
    CUT
  }

  private final InetSocketAddress target;
  private final String name;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final int port;
  private volatile Mode mode = Mode.PASS;
  private volatile long delayNanos;
  private ServerSocket listener;
  private boolean closed;

  private FaultProxy(InetSocketAddress target) throws IOException {
    this.target = target;
    this.name = "ballast-fault-proxy-" + IDS.incrementAndGet();
    this.listener = bind(0);
    this.port = listener.getLocalPort();
    startAcceptor(listener);
  }

  /** Starts a proxy on a free loopback port that forwards to {@code host:port}. */
  public static FaultProxy to(String host, int port) {
    try {
      return new FaultProxy(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new UncheckedIOException("Could not start a fault proxy to " + host + ":" + port, e);
    }
  }

  /** The address clients connect to. */
  public String host() {
    return "127.0.0.1";
  }

  /**
   * The port clients connect to; it stays the same across {@link #cut()} and {@link #restore()}.
   */
  public int port() {
    return port;
  }

  /** What the proxy does to traffic now. */
  public Mode mode() {
    return mode;
  }

  /** The number of client connections the proxy holds open now. */
  public int openConnections() {
    return links.size();
  }

  /** Resets every open connection and refuses new ones until {@link #restore()}. */
  public synchronized void cut() {
    requireOpen();
    mode = Mode.CUT;
    closeListener();
    for (var link : links) {
      link.close(true);
    }
    LOG.info("{}: cut (port {} refuses connections)", name, port);
  }

  /**
   * Keeps the open connections passing traffic but refuses new ones until {@link #restore()}: a
   * peer that cannot take another connection (its limit reached, a firewall rule), which is how a
   * PostgreSQL cancel request, sent on a connection of its own, gets lost while the statement it
   * targets goes on.
   */
  public synchronized void refuseNew() {
    requireOpen();
    closeListener();
    LOG.info("{}: refusing new connections (port {}), open ones pass", name, port);
  }

  /**
   * Forwards everything late by {@code latency}, in both directions, on open and new connections.
   */
  public synchronized void delay(Duration latency) {
    requireOpen();
    Objects.requireNonNull(latency, "latency");
    if (latency.isNegative()) {
      throw new IllegalArgumentException("latency must not be negative, but was " + latency);
    }
    reopenIfCut();
    delayNanos = latency.toNanos();
    mode = Mode.DELAY;
    LOG.info("{}: delaying by {}", name, latency);
  }

  /** Accepts connections and swallows their bytes, answering nothing, until {@link #restore()}. */
  public synchronized void blackhole() {
    requireOpen();
    reopenIfCut();
    mode = Mode.BLACKHOLE;
    LOG.info("{}: black-holing", name);
  }

  /**
   * Back to passing everything through at once; resets connections whose streams the black hole
   * broke.
   */
  public synchronized void restore() {
    requireOpen();
    reopenIfCut();
    delayNanos = 0;
    mode = Mode.PASS;
    for (var link : links) {
      if (link.broken) {
        link.close(true);
      }
    }
    LOG.info("{}: passing through", name);
  }

  /** Stops listening and closes every connection. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    mode = Mode.CUT;
    closeListener();
    for (var link : links) {
      link.close(false);
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException(name + " is closed");
    }
  }

  /**
   * Listens on the proxy's port again. While the port was closed, the system may have lent it for a
   * moment to a client socket's local end (a client reconnecting every few milliseconds takes many
   * ephemeral ports); such a socket goes away quickly, so binding is retried for a few seconds.
   */
  private void reopenIfCut() {
    if (listener != null) {
      return;
    }
    var deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    while (true) {
      try {
        listener = bind(port);
        startAcceptor(listener);
        return;
      } catch (java.net.BindException e) {
        if (System.nanoTime() - deadline > 0) {
          throw new UncheckedIOException(
              name + " could not listen on port " + port + " again (taken for 5 s)", e);
        }
        java.util.concurrent.locks.LockSupport.parkNanos(
            java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(10));
      } catch (IOException e) {
        throw new UncheckedIOException(name + " could not listen on port " + port + " again", e);
      }
    }
  }

  private void closeListener() {
    if (listener != null) {
      try {
        listener.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      listener = null;
    }
  }

  private static ServerSocket bind(int port) throws IOException {
    var socket = new ServerSocket();
    socket.setReuseAddress(true);
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
    return socket;
  }

  private void startAcceptor(ServerSocket socket) {
    var thread = new Thread(() -> accept(socket), name + "-accept");
    thread.setDaemon(true);
    thread.start();
  }

  private void accept(ServerSocket socket) {
    while (!socket.isClosed()) {
      Socket client;
      try {
        client = socket.accept();
      } catch (IOException e) {
        return; // listener closed by cut() or close()
      }
      try {
        client.setTcpNoDelay(true);
        var link = new Link(client);
        links.add(link);
        if (mode == Mode.BLACKHOLE) {
          link.broken = true;
          link.swallow();
        } else {
          link.connect();
        }
      } catch (IOException e) {
        LOG.debug("{}: could not reach {}: {}", name, target, e.toString());
        closeQuietly(client, true);
      }
    }
  }

  private static void closeQuietly(Socket socket, boolean reset) {
    if (socket == null) {
      return;
    }
    try {
      if (reset && !socket.isClosed()) {
        socket.setSoLinger(true, 0); // RST rather than FIN: a connection that was cut, not closed
      }
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  /** One client connection and, unless it arrived while black-holing, its upstream connection. */
  private final class Link {
    private final Socket client;
    private volatile Socket upstream;
    private volatile boolean broken;
    private volatile boolean done;

    Link(Socket client) {
      this.client = client;
    }

    void connect() throws IOException {
      var server = new Socket();
      server.setTcpNoDelay(true);
      server.connect(target, 5_000);
      upstream = server;
      pump(client.getInputStream(), server.getOutputStream(), "up");
      pump(server.getInputStream(), client.getOutputStream(), "down");
    }

    /** Reads and drops whatever the client sends until the connection goes away. */
    void swallow() throws IOException {
      var in = client.getInputStream();
      start(
          () -> {
            var buffer = new byte[8192];
            try {
              while (in.read(buffer) >= 0) {
                // swallowed
              }
            } catch (IOException ignored) {
              // connection closed
            }
            close(false);
          },
          "swallow");
    }

    private void pump(InputStream in, OutputStream out, String direction) {
      BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
      start(
          () -> {
            var buffer = new byte[16384];
            try {
              int n;
              while ((n = in.read(buffer)) >= 0) {
                var current = mode;
                if (current == Mode.BLACKHOLE) {
                  broken = true;
                  continue;
                }
                var due = System.nanoTime() + (current == Mode.DELAY ? delayNanos : 0);
                queue.put(new Chunk(Arrays.copyOf(buffer, n), due));
              }
            } catch (IOException ignored) {
              // peer went away
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            queue.add(Chunk.END);
          },
          direction + "-read");
      start(
          () -> {
            try {
              while (true) {
                var chunk = queue.take();
                if (chunk.isEnd()) {
                  break;
                }
                var wait = chunk.due - System.nanoTime();
                if (wait > 0) {
                  Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                out.write(chunk.bytes);
                out.flush();
              }
            } catch (IOException ignored) {
              // peer went away
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            close(false);
          },
          direction + "-write");
    }

    private void start(Runnable task, String role) {
      var thread = new Thread(task, name + "-" + client.getPort() + "-" + role);
      thread.setDaemon(true);
      thread.start();
    }

    void close(boolean reset) {
      if (done) {
        return;
      }
      done = true;
      links.remove(this);
      closeQuietly(client, reset);
      closeQuietly(upstream, reset);
    }
  }

  /**
   * Bytes read and when they are due; a class, not a record: it holds an array and is compared by
   * identity.
   */
  private static final class Chunk {
    static final Chunk END = new Chunk(new byte[0], 0);
    final byte[] bytes;
    final long due;

    Chunk(byte[] bytes, long due) {
      this.bytes = bytes;
      this.due = due;
    }

    boolean isEnd() {
      return this == END;
    }
  }
}
