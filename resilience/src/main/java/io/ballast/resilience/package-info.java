/**
 * Ballast resilience: circuit breakers for the database and Redis, SQLSTATE-aware transaction retry, bulkheads, with Resilience4j.
 *
 * <p>This module is a placeholder in the build: its API arrives with the issue "Resilience". It already depends
 * on exactly what it will need, so the BOM and dependency convergence cover it today.
 */
package io.ballast.resilience;
