package io.ballast.core;

/**
 * Marks an exception raised when a guard refused a call to one database server without trying it (a
 * breaker open for that server, its bulkhead full). A router with other servers (the pool module's
 * read replicas) may send the same read to another server.
 */
public interface ServerRefusal {}
