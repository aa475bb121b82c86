package io.ballast.core.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.settings.SettingException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdminSettingsTest {
  @Test
  void defaults_listenOnLoopback8081_withoutAToken() {
    var s = AdminSettings.defaults();
    assertThat(s.enabled()).isTrue();
    assertThat(s.port()).isEqualTo(8081);
    assertThat(s.bind()).isEqualTo("127.0.0.1");
    assertThat(s.token()).isNull();
    assertThat(s).hasToString("AdminSettings{enabled=true, bind=127.0.0.1, port=8081}");
  }

  @Test
  void fromEnv_readsEveryVariable_andNeverShowsTheToken() {
    var token = "a-token-of-some-length";
    var s =
        AdminSettings.fromEnv(
            Map.of(
                "BALLAST_ADMIN_ENABLED",
                "false",
                "BALLAST_ADMIN_PORT",
                "0",
                "BALLAST_ADMIN_BIND",
                "0.0.0.0",
                "BALLAST_ADMIN_TOKEN",
                token));
    assertThat(s.enabled()).isFalse();
    assertThat(s.port()).isZero();
    assertThat(s.bind()).isEqualTo("0.0.0.0");
    assertThat(s.token()).isEqualTo(token);
    assertThat(s.toString()).contains("token=****").doesNotContain(token);
  }

  @Test
  void wrongValues_nameSettingRuleValueAndSource_withoutEchoingAToken() {
    assertThatThrownBy(() -> AdminSettings.fromEnv(Map.of("BALLAST_ADMIN_PORT", "70000")))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "admin_port must be between 0 and 65535, but was 70000 (from BALLAST_ADMIN_PORT)");
    assertThatThrownBy(() -> AdminSettings.fromEnv(Map.of("BALLAST_ADMIN_PORT", "http")))
        .hasMessage(
            "admin_port must be a whole number between 0 and 65535, but was http (from BALLAST_ADMIN_PORT)");
    assertThatThrownBy(() -> AdminSettings.fromEnv(Map.of("BALLAST_ADMIN_ENABLED", "yes")))
        .hasMessage(
            "admin_enabled must be true or false, but was yes (from BALLAST_ADMIN_ENABLED)");
    assertThatThrownBy(() -> AdminSettings.fromEnv(Map.of("BALLAST_ADMIN_TOKEN", "s3cr3t")))
        .hasMessage(
            "admin_token must be at least 16 characters long, but was a value of 6 characters"
                + " (from BALLAST_ADMIN_TOKEN)")
        .hasMessageNotContaining("s3cr3t");
    assertThatThrownBy(() -> AdminSettings.builder().bind(" "))
        .hasMessage("admin_bind must be an address such as 127.0.0.1, but was   (from builder)");
  }

  @Test
  void toBuilder_keepsEveryValue() {
    var base = AdminSettings.builder().port(9000).token("t".repeat(20)).build();
    var copy = AdminSettings.from(base).enabled(false).build();
    assertThat(copy.port()).isEqualTo(9000);
    assertThat(copy.token()).isEqualTo("t".repeat(20));
    assertThat(copy.enabled()).isFalse();
    assertThat(base.enabled()).isTrue();
  }
}
