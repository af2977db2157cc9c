#!/usr/bin/env bash
# Makes a Debian machine able to run `npm test` and `npm run bench`: installs with apt-get
# whatever the tests and the bench drive that is missing, then starts PostgreSQL and Redis
# on loopback unless they already answer. Safe to run again: when everything is present it
# only probes (well under 2 s) and changes nothing. Runs as root, or through `sudo -n`; never
# reads stdin, so it works in CI (CI=true, no terminal).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

say() { echo "setup-test-machine: $*"; }
die() {
  say "$*" >&2
  exit 1
}

# Root runs commands as they are; anyone else through sudo without a password prompt.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@" </dev/null
  else
    die "needs root to run: $*"
  fi
}

port_open() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits (bounded) for a service to answer on a loopback port.
wait_for_port() {
  local port=$1 what=$2 i
  for i in $(seq 1 100); do
    port_open "$port" && return 0
    sleep 0.1
  done
  die "$what did not answer on 127.0.0.1:$port within 10 s (tried $i times)"
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }

# The package, and the program whose presence shows it is installed (sbin paths spelled
# out: they are not on a normal user's PATH).
#   curl, chromium (through playwright-core), dnsmasq-base (the DNS server the custom-domain
#   tests start on loopback; -base is the binary without a system service on port 53):
#   real clients and servers of the e2e tests. wrk: the load generator of the bench.
#   postgresql, postgresql-client: the PostgreSQL store tests. redis: services CI provides.
#   nginx, openssh: what the bench compares Burrow against.
#   pebble (ACME server, with pebble-challtestsrv), bind9 (named for RFC 2136 DNS-01),
#   haproxy (PROXY protocol in front of the edge), nghttp2-client (nghttp/h2load for HTTP/2):
#   the HTTPS tests and bench. openssl: test and bench certificates, `s_client` checks.
#   prometheus: the metrics e2e scrapes the edge and agent with the real server; its
#   promtool checks the edge's exposition text at the series cap.
PACKAGES=(
  curl:curl
  chromium:/usr/bin/chromium
  dnsmasq-base:/usr/sbin/dnsmasq
  wrk:wrk
  postgresql:/usr/bin/pg_ctlcluster
  postgresql-client:psql
  redis-server:redis-server
  redis-tools:redis-cli
  nginx:/usr/sbin/nginx
  openssh-server:/usr/sbin/sshd
  openssh-client:ssh
  strace:strace
  pebble:/usr/bin/pebble
  bind9:/usr/sbin/named
  bind9-utils:/usr/sbin/tsig-keygen
  bind9-dnsutils:nsupdate
  haproxy:/usr/sbin/haproxy
  nghttp2-client:h2load
  openssl:openssl
  prometheus:/usr/bin/prometheus
  prometheus:/usr/bin/promtool
)

missing=()
for entry in "${PACKAGES[@]}"; do
  have "${entry#*:}" || missing+=("${entry%%:*}")
done
# pg_ctlcluster comes with postgresql-common; the server binary itself with postgresql-NN.
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)

if [ ${#missing[@]} -gt 0 ]; then
  # shellcheck disable=SC2207 # package names have no spaces
  missing=($(printf '%s\n' "${missing[@]}" | sort -u))
  say "installing ${missing[*]}"
  # Packages that ship a service (nginx, sshd, postgresql, redis) would start it on install,
  # on public ports, and fail the install where that port is taken: forbid service starts
  # for the install (the standard policy-rc.d hook), and start what the tests need below.
  policy=/usr/sbin/policy-rc.d
  added_policy=false
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    added_policy=true
  fi
  cleanup() { if [ "$added_policy" = true ]; then as_root rm -f "$policy"; fi; }
  trap cleanup EXIT
  as_root apt-get update -qq </dev/null
  as_root apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" </dev/null
  cleanup
  trap - EXIT
fi

# PostgreSQL: the tests connect as postgres@127.0.0.1:5432 without a password
# (BURROW_TEST_DATABASE_URL overrides that), so the cluster must run and trust that user on
# loopback only.
pg_cluster() {
  # First cluster as "VERSION NAME"; creates 'main' of the installed version if there is none.
  local line
  line=$(pg_lsclusters --no-header 2>/dev/null | awk 'NR == 1 { print $1, $2 }')
  if [ -z "$line" ]; then
    local version
    version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -n 1)
    as_root pg_createcluster "$version" main >/dev/null
    line="$version main"
  fi
  echo "$line"
}

pg_trusts_loopback() {
  psql -h 127.0.0.1 -p 5432 -U postgres -w -d postgres -Atqc 'select 1' >/dev/null 2>&1 </dev/null
}

if ! port_open 5432 || ! pg_trusts_loopback; then
  read -r pg_version pg_name <<<"$(pg_cluster)"
  hba="/etc/postgresql/$pg_version/$pg_name/pg_hba.conf"
  marker='# burrow tests: user postgres over loopback without a password'
  if ! as_root grep -qF "$marker" "$hba"; then
    say "letting user postgres connect over loopback without a password ($hba)"
    # First matching line wins: these go before Debian's password rules.
    as_root sed -i "1i $marker\nhost all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust" "$hba"
  fi
  if port_open 5432; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_name" reload
  else
    say "starting PostgreSQL $pg_version/$pg_name"
    as_root pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_name" start
  fi
  wait_for_port 5432 PostgreSQL
  for _ in $(seq 1 50); do
    pg_trusts_loopback && break
    sleep 0.1
  done
  pg_trusts_loopback || die "PostgreSQL answers on 5432 but refuses postgres@127.0.0.1 without a password; check $hba"
fi

# Redis on loopback only, without persistence: nothing in it must outlive a test run.
if ! port_open 6379; then
  say "starting Redis on 127.0.0.1:6379"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/burrow-tests.log
  wait_for_port 6379 Redis
fi

# Node comes from wherever the machine gets it (Debian's is too old); say so plainly.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
  die "Node.js >= 20.19 is needed on PATH (found: $(node --version 2>/dev/null || echo none))"
fi

say "ready: curl, chromium, dnsmasq, wrk, nginx, ssh, pebble, named, haproxy, h2load, prometheus installed; PostgreSQL on 5432, Redis on 6379"
