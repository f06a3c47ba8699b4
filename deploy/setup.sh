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
# containerd (with its CRI plugin), runc, containernetworking-plugins and gcc: the CRI pod resolver's
# tests run a private containerd with a pause image built here (test/agent/cri). chromium: the web
# view's browser tests drive it headless through puppeteer-core (test/web), which downloads no browser.
# clang, libbpf-dev and bpftool: `npm run bench -- output-cost` builds a libbpf ring-buffer collector
# to measure what bpftrace's text output costs against it (issue 8; test/bench/output-cost.test.ts).
packages=(bpftrace nats-server haproxy iptables tcpdump iproute2 procps curl python3 make g++ ca-certificates containerd runc containernetworking-plugins gcc chromium clang libbpf-dev bpftool)
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
# A containerd this script installed is for the tests, which start their own: left running, it
# would answer on /run/containerd/containerd.sock and `--pod-resolver auto` would ask it, not
# /run/netns, for pod names. One that was installed before is the node's runtime: left alone.
if [[ " ${missing[*]} " == *" containerd "* ]] && command -v systemctl >/dev/null && systemctl is-active --quiet containerd 2>/dev/null; then
  systemctl disable --now containerd >/dev/null 2>&1 || true
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

# 4. A current bpftrace. Debian 12's 0.17 wakes its reader once per event and
# caps near 80k events/s (a loopback churn runs at a tenth of its speed under
# it); 0.21+ prints through a ring buffer (~800k lines/s). When the system's
# is older, Debian 13's bpftrace is unpacked with every library it needs,
# its own libc included, into a private prefix and started through that
# prefix's loader, so nothing on the system changes: apt reads trixie only
# through a throwaway configuration (its own sources, lists, cache and an
# empty package status, so it resolves the whole dependency closure), and the
# system's apt never sees trixie (`apt-get -s upgrade` offers nothing from it).
# The agent prefers PREFIX/bin/bpftrace to the one on PATH. A stamp file makes
# the next run a no-op.
BPFTRACE_PREFIX=${TCPTRAIL_BPFTRACE_PREFIX:-/opt/tcptrail/bpftrace}
BPFTRACE_SUITE=trixie
BPFTRACE_STAMP="$BPFTRACE_PREFIX/.tcptrail-installed"

# "0.23.2" from "bpftrace v0.23.2"; empty when it does not run.
bpftrace_version() { "$1" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -1 || true; }
# True when version $1 is at least 0.21.
bpftrace_current() { [[ -n $1 ]] && [[ $(printf '%s\n0.21\n' "$1" | sort -V | head -1) == 0.21 ]]; }

# The Debian mirror this machine already uses (a local mirror stays local), else the public one.
debian_mirror() {
  local uri
  uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' 'Label: Debian' 2>/dev/null |
    awk '$2 !~ /-/ { print $1; exit }')
  echo "${TCPTRAIL_DEBIAN_MIRROR:-${uri:-http://deb.debian.org/debian/}}"
}

install_private_bpftrace() (
  set -euo pipefail
  local arch triplet loader work staging pkgs version
  arch=$(dpkg --print-architecture)
  case $arch in
    amd64) triplet=x86_64-linux-gnu loader=ld-linux-x86-64.so.2 ;;
    arm64) triplet=aarch64-linux-gnu loader=ld-linux-aarch64.so.1 ;;
    *) echo "no private bpftrace for architecture $arch" >&2; return 1 ;;
  esac
  work=$(mktemp -d /tmp/tcptrail-bpftrace.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/sources" "$work/prefs" "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
  : >"$work/status"
  cat >"$work/sources/$BPFTRACE_SUITE.sources" <<EOF
Types: deb
URIs: $(debian_mirror)
Suites: $BPFTRACE_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  local apt=(apt-get -q -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/sources"
    -o Dir::Etc::Preferences=/dev/null -o "Dir::Etc::PreferencesParts=$work/prefs"
    -o "Dir::State::Lists=$work/lists" -o "Dir::State::status=$work/status" -o "Dir::Cache=$work/cache"
    -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o APT::Sandbox::User=root
    -o Acquire::Retries=1 -o Acquire::http::Timeout=30 -o Acquire::Languages=none)
  "${apt[@]}" update --error-on=any >"$work/apt.log" 2>&1 || { grep -E '^(E|W):' "$work/apt.log" | head -1 >&2; return 1; }
  # With an empty package status, what apt would install is the whole closure.
  pkgs=$("${apt[@]}" install --print-uris -qq -y --no-install-recommends bpftrace 2>>"$work/apt.log" | awk '{ print $2 }' | sed 's/_.*//')
  [[ -n $pkgs ]] || { grep -E '^(E|W):' "$work/apt.log" | head -1 >&2; return 1; }
  # shellcheck disable=SC2086 # one package name per word
  (cd "$work/debs" && "${apt[@]}" download $pkgs >>"$work/apt.log" 2>&1) || { grep -E '^(E|W):' "$work/apt.log" | head -1 >&2; return 1; }
  staging="$BPFTRACE_PREFIX.new"
  rm -rf "$staging"
  mkdir -p "$staging/bin" "$staging/libexec"
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$staging"; done
  rm -rf "$staging"/usr/share/{doc,man,info,locale,lintian,bug}
  # The loader under the name bpftrace: the kernel names the process after
  # the file it executed, so ps, pgrep -x and the agent's tests see "bpftrace".
  ln -s "../usr/lib/$triplet/$loader" "$staging/libexec/bpftrace"
  cat >"$staging/bin/bpftrace" <<EOF
#!/bin/sh
# bpftrace from Debian $BPFTRACE_SUITE, installed by tcptrail's deploy/setup.sh with its own
# libraries (libc included): started through the prefix's loader, it never
# loads one of the system's. Relocatable: the prefix is this script's ../
prefix=\$(dirname "\$(dirname "\$(readlink -f "\$0")")")
exec "\$prefix/libexec/bpftrace" --library-path "\$prefix/usr/lib/$triplet:\$prefix/lib/$triplet" --argv0 "\$0" "\$prefix/usr/bin/bpftrace" "\$@"
EOF
  chmod 755 "$staging/bin/bpftrace"
  version=$(bpftrace_version "$staging/bin/bpftrace")
  bpftrace_current "$version" || { echo "Debian $BPFTRACE_SUITE's bpftrace reports version '${version:-none}'" >&2; return 1; }
  printf 'bpftrace %s from Debian %s: %s\n' "$version" "$BPFTRACE_SUITE" "$(echo $pkgs)" >"$staging/.tcptrail-installed"
  rm -rf "$BPFTRACE_PREFIX.old"
  if [[ -e $BPFTRACE_PREFIX ]]; then mv "$BPFTRACE_PREFIX" "$BPFTRACE_PREFIX.old"; fi
  mv "$staging" "$BPFTRACE_PREFIX"
  rm -rf "$BPFTRACE_PREFIX.old"
  echo "$version"
)

system_bpftrace_version=$(bpftrace_version bpftrace)
if bpftrace_current "$system_bpftrace_version"; then
  : # the system's is current; the agent finds it on PATH
elif [[ -f $BPFTRACE_STAMP ]] && bpftrace_current "$(bpftrace_version "$BPFTRACE_PREFIX/bin/bpftrace")"; then
  : # installed by an earlier run
else
  log "installing a current bpftrace from Debian $BPFTRACE_SUITE into $BPFTRACE_PREFIX (the system's is ${system_bpftrace_version:-missing})"
  # Not called as an if condition: bash would then ignore the set -e inside it.
  bpftrace_err=$(mktemp)
  set +e
  private_version=$(install_private_bpftrace 2>"$bpftrace_err")
  bpftrace_rc=$?
  set -e
  if ((bpftrace_rc == 0)); then
    log "bpftrace $private_version ready: $BPFTRACE_PREFIX/bin/bpftrace"
  else
    rm -rf "$BPFTRACE_PREFIX.new"
    log "could not install bpftrace from Debian $BPFTRACE_SUITE ($(tail -1 "$bpftrace_err")): the agent will use bpftrace ${system_bpftrace_version:-0.17}, which caps at about 80k events/s"
  fi
  rm -f "$bpftrace_err"
fi

# 5. npm dependencies (lockfile-exact), then code generation and the TypeScript build.
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
