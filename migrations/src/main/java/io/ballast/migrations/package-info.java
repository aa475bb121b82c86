/**
 * Ballast migrations: Flyway at start-up, migration sets contributed by other modules, safe {@code CREATE INDEX CONCURRENTLY}.
 *
 * <p>This module is a placeholder in the build: its API arrives with the issue "Migrations". It already depends
 * on exactly what it will need, so the BOM and dependency convergence cover it today.
 */
package io.ballast.migrations;
