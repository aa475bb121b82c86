#!/usr/bin/env bash
# The README's test command. Some tests run against real peers that Maven cannot bring (PgBouncer, pgBackRest,
# and a PostgreSQL server of the machine's client tools' major version for pg_dump and pg_restore); they come
# from the machine's Debian packages, as do promtool (package prometheus) for the metrics tests and chromium for the load report's. Run as root, this installs the missing ones first; otherwise it says
# which are missing, and the tests that need them fail naming the package. Then it builds and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  missing+=(pgbouncer)
fi

if ! command -v pgbackrest >/dev/null 2>&1; then
  missing+=(pgbackrest)
fi
# promtool checks /metrics, the alert rules (and their unit tests) and the dashboard's queries
if ! command -v promtool >/dev/null 2>&1; then
  missing+=(prometheus)
fi
# a real browser opens the load-test report and checks that its charts drew
if ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
# backup tests start a throwaway cluster with the server binaries (initdb, postgres, pg_ctl) whose major
# version matches the client tools (pg_dump, pg_restore): both come with the Debian package postgresql-<major>
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/pg_dump >/dev/null 2>&1; then
  missing+=(postgresql)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing the Debian packages the tests need: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${missing[*]} (apt-get install ${missing[*]}); the tests that need them will fail" >&2
  fi
fi

exec ./mvnw -B -ntp verify "$@"
