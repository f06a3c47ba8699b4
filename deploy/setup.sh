#!/usr/bin/env bash
# Installs everything tcptrail needs on a fresh Debian 12 machine and builds it.
# Idempotent: each step runs only when its result is missing, so the test
# command can call it first on every run. Must run as root (apt, tracefs).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  echo "deploy/setup.sh installs system packages and mounts tracefs: run it as root (sudo deploy/setup.sh)." >&2
  exit 1
fi

# 1. System packages. python3, make and g++ build better-sqlite3 when no prebuilt binary can be fetched.
packages=(bpftrace nats-server haproxy iptables tcpdump iproute2 procps curl python3 make g++ ca-certificates)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian packages ship system services on the ports tcptrail and its lab use; tcptrail
# starts its own nats-server and the lab its own HAProxy instances.
if command -v systemctl >/dev/null && systemctl is-active --quiet nats-server 2>/dev/null; then
  systemctl disable --now nats-server >/dev/null 2>&1 || true
fi

# 2. Node.js 20 or newer.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
  echo "tcptrail needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# 3. tracefs: absent on a fresh machine, and bpftrace then finds no tracepoint.
if [[ ! -d /sys/kernel/tracing/events ]]; then
  log "mounting tracefs"
  mount -t tracefs tracefs /sys/kernel/tracing
fi

# 4. npm dependencies (lockfile-exact), then code generation and the TypeScript build.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
if ! node -e 'new (require("better-sqlite3"))(":memory:")' 2>/dev/null; then
  log "building better-sqlite3 from source"
  (cd node_modules/better-sqlite3 && npx --yes node-gyp rebuild --release >/dev/null)
fi
log "building"
npm run --silent build
log "ready: bin/tcptrail"
