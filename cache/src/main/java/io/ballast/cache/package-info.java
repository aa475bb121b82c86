/**
 * Ballast cache: named regions over a Caffeine L1 and a Redis L2, tags, invalidation across instances, single-flight loading.
 *
 * <p>This module is a placeholder in the build: its API arrives with the issue "Two-level cache". It already depends
 * on exactly what it will need, so the BOM and dependency convergence cover it today.
 */
package io.ballast.cache;
