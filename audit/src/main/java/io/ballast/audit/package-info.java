/**
 * Ballast audit: who is acting ({@link io.ballast.audit.ActingContext}, {@link
 * io.ballast.audit.RequestContext}), what they may see ({@link io.ballast.audit.RowSecurity}), and
 * what they changed ({@link io.ballast.audit.AuditLog}). Wire it with {@link
 * io.ballast.audit.AuditModule}.
 */
package io.ballast.audit;
