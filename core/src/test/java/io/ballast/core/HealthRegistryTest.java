package io.ballast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HealthRegistryTest {
  private static HealthRegistry registry(ProbeCheck... checks) {
    return new HealthRegistry(new LinkedHashSet<>(List.of(checks)));
  }

  @Test
  void duplicateNames_areRefused() {
    assertThatThrownBy(
            () ->
                registry(
                    ProbeCheck.of("db", ProbeKind.READY, () -> ProbeResult.healthy("ok")),
                    ProbeCheck.of("db", ProbeKind.LIVE, () -> ProbeResult.healthy("ok"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("A health check named db already exists");
  }

  @Test
  void reportOfAKind_runsThatKindAndShallowerOnes() {
    var r =
        registry(
            ProbeCheck.of("jvm", ProbeKind.LIVE, () -> ProbeResult.healthy("ok")),
            ProbeCheck.of("db", ProbeKind.READY, () -> ProbeResult.healthy("ok")),
            ProbeCheck.of("write", ProbeKind.DEEP, () -> ProbeResult.healthy("ok")));
    assertThat(r.run(ProbeKind.LIVE).checks())
        .extracting(HealthReport.Check::name)
        .containsExactly("jvm");
    assertThat(r.run(ProbeKind.READY).checks())
        .extracting(HealthReport.Check::name)
        .containsExactly("db", "jvm");
    assertThat(r.run(ProbeKind.DEEP).checks())
        .extracting(HealthReport.Check::name)
        .containsExactly("db", "jvm", "write");
  }

  @Test
  void aFailingOrThrowingCheck_makesTheReportUnhealthyAndSaysWhy() {
    var r =
        registry(
            ProbeCheck.of("jvm", ProbeKind.LIVE, () -> ProbeResult.healthy("ok")),
            ProbeCheck.of(
                "db",
                ProbeKind.READY,
                () -> ProbeResult.unhealthy("pool 'primary' is not running", Map.of("active", 0))),
            ProbeCheck.of(
                "redis",
                ProbeKind.READY,
                () -> {
                  throw new IllegalStateException("connection refused");
                }));
    var report = r.run(ProbeKind.READY);
    assertThat(report.healthy()).isFalse();
    assertThat(report.check("db").orElseThrow().message())
        .isEqualTo("pool 'primary' is not running");
    assertThat(report.check("db").orElseThrow().details()).containsEntry("active", 0);
    assertThat(report.check("redis").orElseThrow().healthy()).isFalse();
    assertThat(report.check("redis").orElseThrow().message()).isEqualTo("connection refused");
    assertThat(r.run(ProbeKind.LIVE).healthy()).isTrue();
  }

  @Test
  void aDegradedCheck_keepsTheReportHealthyButDegraded() {
    var r =
        registry(
            ProbeCheck.of("db", ProbeKind.READY, () -> ProbeResult.healthy("ok")),
            ProbeCheck.of(
                "cache",
                ProbeKind.READY,
                () -> ProbeResult.degraded("Redis unreachable: L1 only", Map.of("redis", "down"))));
    var report = r.run(ProbeKind.READY);
    assertThat(report.healthy()).isTrue();
    assertThat(report.status()).isEqualTo(ProbeStatus.DEGRADED);
    assertThat(report.check("cache").orElseThrow().status()).isEqualTo(ProbeStatus.DEGRADED);
    assertThat(report.check("db").orElseThrow().status()).isEqualTo(ProbeStatus.UP);
  }

  @Test
  void aDownCheck_winsOverADegradedOne() {
    var r =
        registry(
            ProbeCheck.of("db", ProbeKind.READY, () -> ProbeResult.unhealthy("refused")),
            ProbeCheck.of(
                "cache", ProbeKind.READY, () -> ProbeResult.degraded("L1 only", Map.of())));
    assertThat(r.run(ProbeKind.READY).status()).isEqualTo(ProbeStatus.DOWN);
  }
}
