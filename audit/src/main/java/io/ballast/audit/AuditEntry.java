package io.ballast.audit;

import java.time.OffsetDateTime;
import java.util.List;

/**
 * One changed row (or event) of the audit trail. JSON values ({@code recordId}, {@code oldRow},
 * {@code newRow}, {@code eventData}) are JSON text; excluded columns are absent from them and
 * redacted ones read {@code "[redacted]"}.
 *
 * @param id the log entry's id (unique, increasing); the rows of one statement's change set share
 *     it
 * @param row the row's position in its statement's change set, from 1; 0 for an entry without one
 *     (an application event, a {@code TRUNCATE}, an entry written before change sets)
 * @param at when the statement ran
 * @param txid the database transaction id
 * @param userId the acting user, or {@code null} when the change was made without a context
 * @param role the acting role, or {@code null}
 * @param tenantId the acting tenant, or {@code null}
 * @param clientIp the client's address, or {@code null}
 * @param requestId the request's id, or {@code null}
 * @param dbUser the database role the connection logged in as
 * @param table {@code schema.table}, or {@code null} for an application event
 * @param operation {@code INSERT}, {@code UPDATE}, {@code DELETE}, {@code TRUNCATE} or {@code
 *     EVENT}
 * @param recordId the key of the changed row, e.g. {@code {"id": 42}}
 * @param oldRow the row before an update or delete
 * @param newRow the row after an insert or update
 * @param changedColumns for an update, the columns whose value changed
 * @param event for an application event, its name
 * @param eventData for an application event, its data
 */
public record AuditEntry(
    long id,
    int row,
    OffsetDateTime at,
    long txid,
    String userId,
    String role,
    String tenantId,
    String clientIp,
    String requestId,
    String dbUser,
    String table,
    String operation,
    String recordId,
    String oldRow,
    String newRow,
    List<String> changedColumns,
    String event,
    String eventData) {}
