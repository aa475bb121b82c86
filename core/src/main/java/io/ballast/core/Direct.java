package io.ballast.core;

import com.google.inject.BindingAnnotation;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Qualifies the {@link javax.sql.DataSource} that reaches the database directly, bypassing a
 * transaction-pooling PgBouncer, for work that needs a session of its own (session-level advisory
 * locks, {@code SET} for a whole session): bound through {@link
 * Extensions#directDataSource(com.google.inject.Binder)} when {@code DATABASE_DIRECT_URL} is set.
 */
@BindingAnnotation
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.PARAMETER, ElementType.METHOD})
public @interface Direct {}
