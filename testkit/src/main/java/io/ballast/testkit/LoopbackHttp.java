package io.ballast.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Requests to an HTTP server on 127.0.0.1 in a test (an admin server, a metrics endpoint), with an
 * optional bearer token, bounded in time so a hung server fails the test instead of hanging it.
 *
 * <pre>{@code
 * var admin = new LoopbackHttp(app.get(AdminServer.class).port(), "token");
 * assertThat(admin.get("/health/ready").statusCode()).isEqualTo(200);
 * }</pre>
 */
public final class LoopbackHttp {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final int port;
  private final String token;

  /** Requests to {@code port}, carrying {@code token} as a bearer token unless it is null. */
  public LoopbackHttp(int port, String token) {
    this.port = port;
    this.token = token;
  }

  /** GET {@code path} with this client's token. */
  public HttpResponse<String> get(String path) {
    return send(request(path, token).GET());
  }

  /** GET {@code path} with {@code token} instead (null: none). */
  public HttpResponse<String> get(String path, String token) {
    return send(request(path, token).GET());
  }

  /**
   * GET {@code path} with this client's token and an {@code Accept} header (content negotiation).
   */
  public HttpResponse<String> getAccepting(String path, String accept) {
    return send(request(path, token).header("Accept", accept).GET());
  }

  /** POST {@code path} with an empty body and this client's token. */
  public HttpResponse<String> post(String path) {
    return send(request(path, token).POST(HttpRequest.BodyPublishers.noBody()));
  }

  private HttpRequest.Builder request(String path, String bearer) {
    var request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(TIMEOUT);
    if (bearer != null) {
      request.header("Authorization", "Bearer " + bearer);
    }
    return request;
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
