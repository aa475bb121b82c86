package io.ballast.audit;

import java.util.Objects;

/**
 * Who is acting in a unit of work: the user, their application role, their tenant, the client's
 * address and the request's id. Immutable and thread-safe. Ballast applies it to the database
 * transaction-locally before the first statement of every transaction (see {@link RequestContext}),
 * where row-level security policies and the audit trigger read it as the settings {@code
 * ballast.user_id}, {@code ballast.role}, {@code ballast.tenant_id}, {@code ballast.client_ip} and
 * {@code ballast.request_id}.
 *
 * <pre>{@code
 * var acting = ActingContext.builder().userId("u-17").tenantId("acme").role("member")
 *     .clientIp(request.remoteAddress()).requestId(request.id()).build();
 * }</pre>
 *
 * <p>Every value is text of at most {@value #MAX_LENGTH} characters without control characters;
 * only the user id is required.
 */
public final class ActingContext {
  /** The longest value a field may hold. */
  public static final int MAX_LENGTH = 256;

  private final String userId;
  private final String role;
  private final String tenantId;
  private final String clientIp;
  private final String requestId;

  private ActingContext(Builder b) {
    this.userId = b.userId;
    this.role = b.role;
    this.tenantId = b.tenantId;
    this.clientIp = b.clientIp;
    this.requestId = b.requestId;
  }

  /** A context with a user and a tenant, no role, address or request id. */
  public static ActingContext of(String userId, String tenantId) {
    return builder().userId(userId).tenantId(tenantId).build();
  }

  /** A builder starting from every default. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this context's values. */
  public Builder toBuilder() {
    return builder()
        .userId(userId)
        .role(role)
        .tenantId(tenantId)
        .clientIp(clientIp)
        .requestId(requestId);
  }

  /** The acting user, or {@code null}. */
  public String userId() {
    return userId;
  }

  /** The application role (not a database role), or {@code null}. */
  public String role() {
    return role;
  }

  /** The tenant, or {@code null}. */
  public String tenantId() {
    return tenantId;
  }

  /** The client's address, or {@code null}. */
  public String clientIp() {
    return clientIp;
  }

  /** The request's id, or {@code null}. */
  public String requestId() {
    return requestId;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ActingContext c
        && userId.equals(c.userId)
        && Objects.equals(role, c.role)
        && Objects.equals(tenantId, c.tenantId)
        && Objects.equals(clientIp, c.clientIp)
        && Objects.equals(requestId, c.requestId);
  }

  @Override
  public int hashCode() {
    return Objects.hash(userId, role, tenantId, clientIp, requestId);
  }

  @Override
  public String toString() {
    return "ActingContext[user "
        + userId
        + (role == null ? "" : ", role " + role)
        + (tenantId == null ? "" : ", tenant " + tenantId)
        + (requestId == null ? "" : ", request " + requestId)
        + "]";
  }

  /** Builds an {@link ActingContext}; each setter checks its value. */
  public static final class Builder {
    private String userId;
    private String role;
    private String tenantId;
    private String clientIp;
    private String requestId;

    private Builder() {}

    /** The acting user. */
    public Builder userId(String userId) {
      this.userId = check("user_id", userId);
      return this;
    }

    /** The acting user's role. */
    public Builder role(String role) {
      this.role = check("role", role);
      return this;
    }

    /** The tenant acted for. */
    public Builder tenantId(String tenantId) {
      this.tenantId = check("tenant_id", tenantId);
      return this;
    }

    /** The client's address. */
    public Builder clientIp(String clientIp) {
      this.clientIp = check("client_ip", clientIp);
      return this;
    }

    /** The request's id, to tie audit rows to logs. */
    public Builder requestId(String requestId) {
      this.requestId = check("request_id", requestId);
      return this;
    }

    /** Builds the {@code ActingContext}. */
    public ActingContext build() {
      if (userId == null) {
        throw new IllegalArgumentException("user_id of an acting context must be set");
      }
      return new ActingContext(this);
    }

    private static String check(String field, String value) {
      if (value == null) {
        return null;
      }
      if (value.isEmpty() || value.length() > MAX_LENGTH) {
        throw new IllegalArgumentException(
            field
                + " of an acting context must be 1 to "
                + MAX_LENGTH
                + " characters long, but was "
                + value.length()
                + " characters long");
      }
      for (int i = 0; i < value.length(); i++) {
        if (Character.isISOControl(value.charAt(i))) {
          throw new IllegalArgumentException(
              field
                  + " of an acting context must not contain control characters, "
                  + "but had one at index "
                  + i);
        }
      }
      return value;
    }
  }
}
