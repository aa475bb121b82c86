/**
 * Ballast audit: the acting request context, row-level security, and a trigger-based audit log.
 *
 * <p>This module is a placeholder in the build: its API arrives with the issue "Audit and row-level security". It already depends
 * on exactly what it will need, so the BOM and dependency convergence cover it today.
 */
package io.ballast.audit;
