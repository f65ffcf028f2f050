#!/usr/bin/env bash
# Makes sure the local Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432) that the tests
# use are running, starting them when they are installed but stopped. Prints what it did.
set -euo pipefail

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }

if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "services: starting redis-server on 127.0.0.1:6379"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
  fi
  redis_up || echo "services: Redis is not reachable on 127.0.0.1:6379 (install redis-server)" >&2
fi

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 100); do pg_up && break; sleep 0.1; done
  fi
  pg_up || echo "services: PostgreSQL is not reachable on 127.0.0.1:5432 (install postgresql)" >&2
fi
exit 0
