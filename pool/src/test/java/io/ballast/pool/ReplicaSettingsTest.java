package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.settings.SettingException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Replica settings from the environment and the builder; positions in PostgreSQL's text form. */
class ReplicaSettingsTest {
  private static final PoolSettings PRIMARY =
      PoolSettings.builder()
          .url("postgresql://app:s3cr%2Ft@db-primary:5432/shop?connection_limit=12")
          .build();

  @Test
  void replicaUrls_areSplitBeforeEachScheme_keepingMultiHostCommas_andInheritWhatTheyLeaveOut() {
    var settings =
        ReplicaSettings.fromEnv(
            PRIMARY,
            Map.of(
                "DATABASE_REPLICA_URLS",
                "postgresql://db-r1:5432/shop, postgresql://reader:p%40ss@db-r2:5433,db-r3:5434/shop"
                    + "?connection_limit=4,jdbc:postgresql://db-r4/shop"));
    var replicas = settings.replicas();
    assertThat(replicas)
        .extracting(PoolSettings::name)
        .containsExactly("replica-1", "replica-2", "replica-3");
    assertThat(replicas.get(0).hosts()).containsExactly("db-r1");
    assertThat(replicas.get(0).username()).isEqualTo("app");
    assertThat(replicas.get(0).password()).isEqualTo("s3cr/t");
    assertThat(replicas.get(0).connectionLimit()).isEqualTo(12);
    assertThat(replicas.get(1).hosts()).containsExactly("db-r2", "db-r3");
    assertThat(replicas.get(1).ports()).containsExactly(5433, 5434);
    assertThat(replicas.get(1).username()).isEqualTo("reader");
    assertThat(replicas.get(1).connectionLimit()).isEqualTo(4);
    assertThat(replicas.get(2).hosts()).containsExactly("db-r4");
    assertThat(settings.maxLag()).isEqualTo(Duration.ofSeconds(5));
    assertThat(settings.maxLagBytes()).isEqualTo(16L << 20);
    assertThat(settings.checkInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(settings.toString())
        .doesNotContain("s3cr")
        .doesNotContain("p@ss")
        .contains("replica-2=");
  }

  @Test
  void noReplicas_meansEveryReadOnThePrimary() {
    assertThat(ReplicaSettings.fromEnv(PRIMARY, Map.of()).replicas()).isEmpty();
    assertThat(ReplicaSettings.fromEnv(PRIMARY, Map.of("DATABASE_REPLICA_URLS", " ")).replicas())
        .isEmpty();
  }

  @Test
  void badValues_failNamingTheSettingTheValueAndWhatIsAllowed_withoutSecrets() {
    assertThatThrownBy(
            () ->
                ReplicaSettings.fromEnv(
                    PRIMARY, Map.of("DATABASE_REPLICA_URLS", "postgresql://u:hunter2@r1/shop,")))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining("DATABASE_REPLICA_URLS")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(
            () ->
                ReplicaSettings.fromEnv(
                    PRIMARY,
                    Map.of(
                        "DATABASE_REPLICA_URLS",
                        "postgresql://u:hunter2@r1/shop?conection_limit=3")))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining("conection_limit")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(
            () -> ReplicaSettings.fromEnv(PRIMARY, Map.of("DB_REPLICA_MAX_LAG_MS", "-1")))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining("replica_max_lag")
        .hasMessageContaining("-1");
    assertThatThrownBy(
            () -> ReplicaSettings.fromEnv(PRIMARY, Map.of("DB_REPLICA_MAX_LAG_BYTES", "lots")))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining("replica_max_lag_bytes")
        .hasMessageContaining("lots");
    assertThatThrownBy(
            () -> ReplicaSettings.fromEnv(PRIMARY, Map.of("DB_REPLICA_CHECK_INTERVAL_MS", "5")))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining("replica_check_interval");
  }

  @Test
  void walPositions_roundTripPostgresTextForm_andOrderUnsigned() {
    var p = WalPosition.parse("16/B374D848");
    assertThat(p.value()).isEqualTo((0x16L << 32) | 0xB374D848L);
    assertThat(p).hasToString("16/B374D848");
    assertThat(WalPosition.parse("0/0")).isEqualTo(WalPosition.ZERO);
    assertThat(WalPosition.parse("FFFFFFFF/FFFFFFFF").compareTo(p)).isPositive();
    assertThat(p.replayedBy(WalPosition.parse("16/B374D849"))).isTrue();
    assertThat(p.replayedBy(WalPosition.parse("16/B374D847"))).isFalse();
    assertThat(WalPosition.parse("17/0").bytesAfter(p)).isEqualTo(0x100000000L - 0xB374D848L);
    for (var bad : new String[] {"", "16", "/1", "1/", "g/1", "123456789/0", "1/2/3", "-1/2"}) {
      assertThatThrownBy(() -> WalPosition.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("16/B374D848");
    }
  }
}
