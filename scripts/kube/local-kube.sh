#!/usr/bin/env bash
# local-kube.sh - a real, local Kubernetes control plane (etcd + kube-apiserver +
# kube-controller-manager) on 127.0.0.1 for integration tests.
#
# The Kubernetes binaries are built once from Debian bookworm's `kubernetes`
# source package (Kubernetes 1.20.2) and cached outside the repository.
#
# Run `local-kube.sh help` for usage; see scripts/kube/README.md.
set -euo pipefail

SCRIPT_NAME="$(basename "$0")"
readonly SCRIPT_NAME
readonly CACHE_DIR="${KUBE_CACHE_DIR:-${HOME:-/root}/.cache/apigw-local-kube}"
readonly BIN_DIR="${CACHE_DIR}/bin"
readonly DEFAULT_RUN_DIR="${KUBE_RUN_DIR:-/tmp/apigw-local-kube}"
readonly CONTEXT_NAME="${KUBE_CONTEXT_NAME:-local-kube}"
readonly DEBIAN_SUITE="${LOCAL_KUBE_DEBIAN_SUITE:-bookworm}"
readonly SRC_LIST_FILE="/etc/apt/sources.list.d/apigw-local-kube-src.sources"
readonly KUBECTL="${KUBECTL:-kubectl}"
readonly APISERVER_READY_TIMEOUT="${LOCAL_KUBE_APISERVER_TIMEOUT:-90}"
readonly CONTROLLERS_READY_TIMEOUT="${LOCAL_KUBE_CONTROLLERS_TIMEOUT:-60}"
readonly APISERVER_STOP_GRACE="${LOCAL_KUBE_APISERVER_STOP_GRACE:-3}"
readonly BINARIES=(kube-apiserver kube-controller-manager)
readonly REFLECT2_SRC=/usr/share/gocode/src/github.com/modern-go/reflect2

# ---------------------------------------------------------------- helpers ---

log()  { printf '[local-kube] %s\n' "$*"; }
warn() { printf '[local-kube] WARNING: %s\n' "$*" >&2; }
die()  { printf '[local-kube] ERROR: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }
elapsed() { # elapsed START_MS -> "12.3s"
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%01ds' $(( d / 1000 )) $(( (d % 1000) / 100 ))
}

as_root() {
  if [[ ${EUID} -eq 0 ]]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else die "need root (or sudo) to run: $*"; fi
}

usage() {
  cat <<EOF
Usage: ${SCRIPT_NAME} <command> [DIR]     (install and build may be followed by more commands)

Commands:
  install            apt-get install build/runtime dependencies (idempotent)
  build              build kube-apiserver + kube-controller-manager from Debian's
                     kubernetes source package; cached in ${BIN_DIR}
  start [DIR]        start etcd, kube-apiserver and kube-controller-manager
                     (state dir, default ${DEFAULT_RUN_DIR}); writes DIR/kubeconfig, DIR/env
  stop [DIR]         stop all components
  status [DIR]       show component status (exit 0 if the API server is ready)
  stop-apiserver [DIR]   stop only kube-apiserver (etcd & controller-manager keep running)
  start-apiserver [DIR]  restart kube-apiserver on the same port with the same certs
  selftest [DIR]     start, verify service-account tokens with kubectl, stop

Environment:
  KUBE_CACHE_DIR                   binary cache (default ~/.cache/apigw-local-kube)
  KUBE_RUN_DIR                     default state dir (default /tmp/apigw-local-kube)
  KUBE_CONTEXT_NAME                kubeconfig context/cluster name (default local-kube)
  LOCAL_KUBE_NO_CONTROLLER_MANAGER=1  start without kube-controller-manager
  LOCAL_KUBE_KEEP_BUILD=1          keep the source/build tree after a build
  LOCAL_KUBE_APISERVER_TIMEOUT     seconds to wait for /readyz (default 90)
  LOCAL_KUBE_CONTROLLERS_TIMEOUT   seconds to wait for SA tokens (default 60)
  LOCAL_KUBE_APISERVER_STOP_GRACE  seconds between SIGTERM and SIGKILL for kube-apiserver (default 3)
  LOCAL_KUBE_STOP_SIGNAL           signal for stop-apiserver: TERM (default) or KILL (simulate a crash)
  KUBECTL                          kubectl used by selftest (default kubectl)
EOF
}

# ---------------------------------------------------------------- install ---

cmd_install() {
  local -a missing=()
  command -v etcd        >/dev/null 2>&1 || missing+=(etcd-server)
  command -v rsync       >/dev/null 2>&1 || missing+=(rsync)
  command -v make        >/dev/null 2>&1 || missing+=(make)
  command -v dpkg-source >/dev/null 2>&1 || missing+=(dpkg-dev)
  command -v openssl     >/dev/null 2>&1 || missing+=(openssl)
  command -v curl        >/dev/null 2>&1 || missing+=(curl)
  command -v ss          >/dev/null 2>&1 || missing+=(iproute2)
  # Kubernetes 1.20 needs Go >= 1.15; Debian bookworm ships 1.19 in golang-go.
  if [[ ! -x /usr/lib/go/bin/go ]] && ! command -v go >/dev/null 2>&1; then
    missing+=(golang-go)
  fi
  # reflect2 >= 1.0.2 replaces the vendored 1.0.1, which breaks with Go >= 1.18 (see build)
  [[ -f "${REFLECT2_SRC}/go_above_118.go" ]] || missing+=(golang-github-modern-go-reflect2-dev)
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "install: all dependencies already present"
    return 0
  fi
  log "install: apt-get installing ${missing[*]}"
  local t0; t0=$(now_ms)
  local aptlog; aptlog=$(mktemp)
  if ! { as_root apt-get update -qq && \
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           --no-install-recommends "${missing[@]}"; } >"${aptlog}" 2>&1; then
    cat "${aptlog}" >&2
    rm -f "${aptlog}"
    die "apt-get install failed"
  fi
  rm -f "${aptlog}"
  log "install: done in $(elapsed "${t0}")"
}

# ------------------------------------------------------------------ build ---

binaries_present() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x "${BIN_DIR}/${b}" ]] || return 1; done
}

# Print the URI of the Debian mirror in use (first `deb` entry for the main archive).
detect_debian_mirror() {
  local f uri="" codename=""
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || true
  local suites_re="^(${DEBIAN_SUITE}${codename:+|${codename}})(-updates)?$"
  # deb822 *.sources files
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" && "$f" != "${SRC_LIST_FILE}" ]] || continue
    uri=$(awk -v sre="${suites_re}" '
      function has(list, re,   n, a, k) { n = split(list, a, /[ \t]+/); for (k = 1; k <= n; k++) if (a[k] ~ re) return 1; return 0 }
      function flush() {
        if (has(types, "^deb$") && has(suites, sre) && has(comps, "^main$") && enabled != "no" && uri != "" && found == "") found = uri
        types = suites = comps = uri = ""; enabled = "yes"
      }
      BEGIN { enabled = "yes"; found = "" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:"      { types = substr($0, index($0, ":") + 1) }
      tolower($1) == "uris:"       { uri = $2 }
      tolower($1) == "suites:"     { suites = substr($0, index($0, ":") + 1) }
      tolower($1) == "components:" { comps = substr($0, index($0, ":") + 1) }
      tolower($1) == "enabled:"    { enabled = tolower($2) }
      END { flush(); if (found != "") print found }
    ' "$f")
    [[ -n "${uri}" ]] && { printf '%s\n' "${uri}"; return 0; }
  done
  # one-line style lists
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri=$(awk -v sre="${suites_re}" '
      $1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
        u = $(i); s = $(i + 1)
        if (s ~ sre) { for (j = i + 2; j <= NF; j++) if ($j == "main") { print u; exit } }
      }' "$f")
    [[ -n "${uri}" ]] && { printf '%s\n' "${uri}"; return 0; }
  done
  return 1
}

have_kubernetes_source() {
  apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Package: kubernetes$'
}

ensure_deb_src() {
  if have_kubernetes_source; then
    return 0
  fi
  if [[ ! -f "${SRC_LIST_FILE}" ]]; then
    local mirror
    mirror=$(detect_debian_mirror) || die "could not find the Debian mirror in /etc/apt/sources.list{,.d/*}"
    log "build: adding deb-src ${mirror} ${DEBIAN_SUITE} main (${SRC_LIST_FILE})"
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    {
      printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n' "${mirror}" "${DEBIAN_SUITE}"
      [[ -f "${keyring}" ]] && printf 'Signed-By: %s\n' "${keyring}"
    } | as_root tee "${SRC_LIST_FILE}" >/dev/null
  fi
  as_root apt-get update -qq >/dev/null 2>&1 || warn "apt-get update reported errors"
  have_kubernetes_source || die "apt-get cannot find the 'kubernetes' source package (check ${SRC_LIST_FILE})"
}

# Pick the Go toolchain: Debian's default (/usr/lib/go) first, as debian/rules does.
select_go() {
  if [[ -x /usr/lib/go/bin/go ]]; then export PATH="/usr/lib/go/bin:${PATH}"; fi
  command -v go >/dev/null 2>&1 || die "go not found; run '${SCRIPT_NAME} install' first"
  local v; v=$(GOFLAGS='' go env GOVERSION 2>/dev/null || true)
  [[ -n "$v" ]] || v=$(GOFLAGS='' go version | awk '{print $3}')
  local minor; minor=$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$v")
  if [[ ! "${minor}" =~ ^[0-9]+$ ]] || (( minor < 15 )); then
    die "Kubernetes 1.20 needs Go >= 1.15 (found ${v}); install Debian's golang-go"
  fi
  (( minor <= 19 )) || warn "Go ${v} is newer than Debian bookworm's 1.19; the 1.20 build may fail"
  printf '%s\n' "$v"
}

# Kubernetes 1.20 vendors github.com/modern-go/reflect2 v1.0.1, which reads Go
# runtime internals that changed in Go 1.18: built with Go >= 1.18 the API server
# panics (nil pointer in reflect2.Type2 via json-iterator) on many JSON requests,
# e.g. GET serviceaccounts. Upstream fixed this in reflect2 v1.0.2 (same API);
# Debian ships it as golang-github-modern-go-reflect2-dev, so swap it in.
patch_reflect2() {
  local src=$1 gover=$2 vdir="$1/vendor/github.com/modern-go/reflect2" minor
  minor=$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"${gover}")
  [[ -d "${vdir}" ]] || return 0
  if [[ -f "${vdir}/go_above_118.go" ]] || (( minor < 18 )); then return 0; fi
  [[ -f "${REFLECT2_SRC}/go_above_118.go" ]] || \
    die "Go ${gover} needs reflect2 >= 1.0.2: apt-get install golang-github-modern-go-reflect2-dev (or run '${SCRIPT_NAME} install')"
  log "build: replacing vendored modern-go/reflect2 v1.0.1 with Debian's $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev 2>/dev/null || echo 1.0.2) (Go >= 1.18 fix)"
  find "${vdir}" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) -delete
  find "${REFLECT2_SRC}" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' \
    -exec cp {} "${vdir}/" \;
  sed -i -E 's#^(\# github.com/modern-go/reflect2) v1\.0\.1( => github.com/modern-go/reflect2) v1\.0\.1$#\1 v1.0.2\2 v1.0.2#; s#^(\# github.com/modern-go/reflect2 => github.com/modern-go/reflect2) v1\.0\.1$#\1 v1.0.2#' \
    "${src}/vendor/modules.txt"
}

cmd_build() {
  if binaries_present; then
    log "build: cached binaries found in ${BIN_DIR}, skipping build"
    "${BIN_DIR}/kube-apiserver" --version 2>/dev/null | sed 's/^/[local-kube]   /' || true
    return 0
  fi
  for c in rsync make dpkg-source apt-get; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' not found; run '${SCRIPT_NAME} install' first"
  done
  mkdir -p "${CACHE_DIR}"
  exec 9>"${CACHE_DIR}/build.lock"
  flock 9
  if binaries_present; then   # another process built it while we waited
    log "build: cached binaries appeared in ${BIN_DIR}, skipping build"
    return 0
  fi
  local t0; t0=$(now_ms)
  local gover; gover=$(select_go)
  ensure_deb_src

  local work="${CACHE_DIR}/build"
  local buildlog="${CACHE_DIR}/build.log"
  rm -rf "${work}"
  mkdir -p "${work}"
  log "build: fetching kubernetes source package into ${work}"
  ( cd "${work}" && apt-get source -qq kubernetes ) >"${buildlog}" 2>&1 || {
    tail -n 30 "${buildlog}" >&2; die "apt-get source kubernetes failed (log: ${buildlog})"; }
  local src
  src=$(find "${work}" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | sed -n 1p)
  [[ -n "${src}" && -f "${src}/Makefile" && -d "${src}/vendor" ]] || die "unexpected source layout in ${work}"
  local kver
  kver=$(sed -nE "s/.*'tag: (v[0-9][^ ,']*).*/\1/p" "${src}/hack/lib/version.sh" | sed -n 1p)
  log "build: source $(basename "${src}") (Kubernetes ${kver:-unknown}), Go ${gover}"

  # Build like debian/rules does, but only the two binaries we need:
  #  - GOPATH mode with vendor/ (hack/lib/init.sh forces GO111MODULE=off), so
  #    drop user GOFLAGS (e.g. -mod=vendor is invalid in GOPATH mode) and any
  #    module/proxy/toolchain settings; never touch the network.
  #  - static binaries (CGO_ENABLED=0), version taken from the archive's
  #    export-subst'ed hack/lib/version.sh (v1.20.2, no git needed).
  #  - debian/rules' GOPATH symlink, in case any generator resolves k8s.io/kubernetes
  #    through $GOPATH.
  patch_reflect2 "${src}" "${gover}"
  mkdir -p "${src}/.go/src/k8s.io"
  [[ -L "${src}/.go/src/k8s.io/kubernetes" ]] || ln -s ../../.. "${src}/.go/src/k8s.io/kubernetes"
  log "build: make WHAT=\"cmd/kube-apiserver cmd/kube-controller-manager\" (takes 7-12 min; log: ${buildlog})"
  if ! ( cd "${src}" && env -u GOFLAGS -u GO111MODULE -u GOTOOLCHAIN -u GOWORK -u GOROOT -u GOBIN \
          GOPROXY=off GOSUMDB=off GONOSUMDB= GOPRIVATE= CGO_ENABLED=0 \
          KUBE_BUILD_PLATFORMS=linux/amd64 \
          make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" ) >>"${buildlog}" 2>&1; then
    tail -n 40 "${buildlog}" >&2
    die "kubernetes build failed (full log: ${buildlog}; source kept in ${work})"
  fi

  local out b
  out=$(find "${src}/_output" -type f -path '*/bin/kube-apiserver' -print -quit)
  [[ -n "${out}" ]] || die "build finished but kube-apiserver was not found under ${src}/_output"
  out=$(dirname "${out}")
  mkdir -p "${BIN_DIR}"
  for b in "${BINARIES[@]}"; do
    [[ -x "${out}/${b}" ]] || die "build did not produce ${b}"
    cp "${out}/${b}" "${BIN_DIR}/.${b}.tmp"
    mv -f "${BIN_DIR}/.${b}.tmp" "${BIN_DIR}/${b}"
  done
  printf 'source=%s\nkubernetes=%s\ngo=%s\nbuilt=%s\n' "$(basename "${src}")" "${kver}" "${gover}" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"${BIN_DIR}/BUILD-INFO"
  if [[ "${LOCAL_KUBE_KEEP_BUILD:-0}" != 1 ]]; then rm -rf "${work}"; fi
  log "build: done in $(elapsed "${t0}"); binaries in ${BIN_DIR}"
  "${BIN_DIR}/kube-apiserver" --version | sed 's/^/[local-kube]   /'
}

# ---------------------------------------------------------- process utils ---

# pid_alive NAME DIR -> 0 if DIR/NAME.pid names a live NAME process
pid_alive() {
  local name=$1 dir=$2 pid
  [[ -f "${dir}/${name}.pid" ]] || return 1
  pid=$(<"${dir}/${name}.pid")
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  kill -0 "${pid}" 2>/dev/null || return 1
  # guard against pid reuse: the process must be the binary we started
  tr '\0' ' ' 2>/dev/null <"/proc/${pid}/cmdline" | grep -q -- "${name}" || return 1
  # zombies are not alive
  [[ "$(awk '{print $3}' "/proc/${pid}/stat" 2>/dev/null)" != Z ]]
}

read_pid() { if [[ -f "$2/$1.pid" ]]; then cat "$2/$1.pid"; fi; }

# stop_proc NAME DIR [SIGNAL] [GRACE_SECONDS]: send SIGNAL (default TERM), wait up
# to GRACE seconds (default 10), then SIGKILL. kube-apiserver stops listening at
# once on SIGTERM but then drains long-running watches for a long time, so callers
# give it a short grace.
stop_proc() {
  local name=$1 dir=$2 sig=${3:-TERM} grace=${4:-10} pid i
  if ! pid_alive "${name}" "${dir}"; then
    rm -f "${dir}/${name}.pid"
    return 0
  fi
  pid=$(<"${dir}/${name}.pid")
  kill -"${sig}" "${pid}" 2>/dev/null || true
  for (( i = 0; i < grace * 10; i++ )); do
    pid_alive "${name}" "${dir}" || break
    sleep 0.1
  done
  if pid_alive "${name}" "${dir}"; then
    log "${name} (pid ${pid}) still running ${grace}s after SIG${sig}, sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    for (( i = 0; i < 50; i++ )); do pid_alive "${name}" "${dir}" || break; sleep 0.1; done
  fi
  rm -f "${dir}/${name}.pid"
  log "stopped ${name} (pid ${pid})"
}

# spawn NAME DIR BIN ARGS... : start detached, stdout/stderr -> DIR/NAME.log
spawn() {
  local name=$1 dir=$2; shift 2
  # setsid: own session so the caller's Ctrl-C / process group kill does not hit it;
  # all std fds redirected so callers reading our stdout never block on it.
  # fds 8/9 are our flock fds: daemons must not inherit (and so hold) the locks.
  setsid "$@" </dev/null >>"${dir}/${name}.log" 2>&1 8>&- 9>&- &
  local pid=$! i
  echo "${pid}" >"${dir}/${name}.pid"
  # wait until the forked shell has exec'd the binary, so pid_alive's cmdline check holds
  for (( i = 0; i < 100; i++ )); do
    tr '\0' ' ' 2>/dev/null <"/proc/${pid}/cmdline" | grep -q -- "${name}" && return 0
    kill -0 "${pid}" 2>/dev/null || return 0
    sleep 0.02
  done
}

# port_in_use PORT [ss-flags]: any TCP socket (default -tan) using PORT locally
port_in_use() {
  local p=$1 flags=${2:--tan}
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -H "${flags}" "( sport = :${p} )" 2>/dev/null)" ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/${p}") 2>/dev/null
  fi
}

# Ports free_port hands out, claimed across control planes started at the same time: each start finds a port free
# and binds it seconds later, so two starts at once picked the same port (seen: etcd's peer port of one was the
# client port of another). A claim is a directory, made atomically; stop releases it, and one a killed run left
# behind is ignored after a day.
PORT_CLAIMS="${TMPDIR:-/tmp}/apigw-local-kube-ports"

# free_port [EXCLUDE...]: a currently unused, unclaimed TCP port below the ephemeral range, claimed for the caller
free_port() {
  local p i ex taken
  mkdir -p "${PORT_CLAIMS}"
  find "${PORT_CLAIMS}" -mindepth 1 -maxdepth 1 -mmin +1440 -exec rmdir {} + 2>/dev/null || true
  for (( i = 0; i < 200; i++ )); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    taken=0
    for ex in "$@"; do [[ "${ex}" == "${p}" ]] && taken=1; done
    (( taken )) && continue
    port_in_use "${p}" && continue
    mkdir "${PORT_CLAIMS}/${p}" 2>/dev/null || continue
    echo "${p}"
    return 0
  done
  die "could not find a free loopback port"
}

# release_ports DIR: the claims of the ports DIR's control plane was given
release_ports() {
  local dir=$1 p
  [[ -f "${dir}/state" ]] || return 0
  for p in $(sed -n 's/^[A-Z_]*_PORT=//p' "${dir}/state"); do
    rmdir "${PORT_CLAIMS}/${p}" 2>/dev/null || true
  done
}

# ------------------------------------------------------------------- pki ----

gen_pki() {
  local dir=$1 pki="$1/pki"
  rm -rf "${pki}"
  mkdir -p "${pki}"
  chmod 700 "${pki}"
  (
    cd "${pki}"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout ca.key -out ca.crt -subj "/CN=${CONTEXT_NAME}-ca" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    cat >serving.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1
EOF
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout apiserver.key -out apiserver.csr \
      -subj "/CN=kube-apiserver" 2>/dev/null
    openssl x509 -req -sha256 -days 3650 -in apiserver.csr -CA ca.crt -CAkey ca.key \
      -CAcreateserial -extfile serving.ext -out apiserver.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f apiserver.csr ca.srl
    chmod 644 ca.crt apiserver.crt sa.pub
  ) || die "certificate generation with openssl failed"
}

write_tokens() {
  local dir=$1 token
  token=$(openssl rand -hex 32)
  ( umask 077
    printf '%s' "${token}" >"${dir}/admin.token"
    # token,user,uid,"groups"
    printf '%s,admin,admin,"system:masters"\n' "${token}" >"${dir}/pki/tokens.csv"
    # curl header file, so the token never shows up in a process list
    printf 'Authorization: Bearer %s\n' "${token}" >"${dir}/admin.header"
  )
}

write_kubeconfig() { # write_kubeconfig FILE DIR SERVER CONTEXT
  local file=$1 dir=$2 server=$3 ctx=$4 ca_b64
  ca_b64=$(base64 -w0 <"${dir}/pki/ca.crt")
  ( umask 077
    cat >"${file}.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ${ctx}
  cluster:
    server: ${server}
    certificate-authority-data: ${ca_b64}
users:
- name: ${ctx}-admin
  user:
    token: $(<"${dir}/admin.token")
contexts:
- name: ${ctx}
  context:
    cluster: ${ctx}
    user: ${ctx}-admin
    namespace: default
current-context: ${ctx}
preferences: {}
EOF
    mv -f "${file}.tmp" "${file}"
  )
}

write_env() {
  local dir=$1
  # shellcheck disable=SC1091
  . "${dir}/state"
  {
    echo "# generated by ${SCRIPT_NAME}; source this file"
    printf 'export KUBE_RUN_DIR=%q\n' "${dir}"
    printf 'export KUBECONFIG=%q\n' "${dir}/kubeconfig"
    printf 'export KUBE_CONTEXT_NAME=%q\n' "${CONTEXT_NAME}"
    printf 'export KUBE_SERVER=%q\n' "https://127.0.0.1:${APISERVER_PORT}"
    printf 'export KUBE_APISERVER_PORT=%q\n' "${APISERVER_PORT}"
    printf 'export KUBE_CA_FILE=%q\n' "${dir}/pki/ca.crt"
    printf 'export KUBE_ADMIN_TOKEN_FILE=%q\n' "${dir}/admin.token"
    printf 'export KUBE_ETCD_ENDPOINT=%q\n' "http://127.0.0.1:${ETCD_CLIENT_PORT}"
    printf 'export KUBE_ETCD_PID=%q\n' "$(read_pid etcd "${dir}")"
    printf 'export KUBE_APISERVER_PID=%q\n' "$(read_pid kube-apiserver "${dir}")"
    printf 'export KUBE_CONTROLLER_MANAGER_PID=%q\n' "$(read_pid kube-controller-manager "${dir}")"
  } >"${dir}/env.tmp"
  mv -f "${dir}/env.tmp" "${dir}/env"
}

# ------------------------------------------------------------- components ---

api_get() { # api_get DIR PATH -> body on stdout, fails on non-2xx
  local dir=$1 path=$2
  # shellcheck disable=SC1091
  . "${dir}/state"
  curl -sf --max-time 5 --cacert "${dir}/pki/ca.crt" -H @"${dir}/admin.header" \
    "https://127.0.0.1:${APISERVER_PORT}${path}"
}

apiserver_ready() { # anonymous /readyz is allowed by the system:public-info-viewer role
  local dir=$1
  # shellcheck disable=SC1091
  . "${dir}/state"
  [[ "$(curl -s --max-time 3 --cacert "${dir}/pki/ca.crt" \
        "https://127.0.0.1:${APISERVER_PORT}/readyz" 2>/dev/null)" == ok ]]
}

start_etcd() {
  local dir=$1
  # shellcheck disable=SC1091
  . "${dir}/state"
  command -v etcd >/dev/null 2>&1 || die "etcd not found; run '${SCRIPT_NAME} install'"
  spawn etcd "${dir}" etcd \
    --name local-kube \
    --data-dir "${dir}/etcd-data" \
    --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster "local-kube=http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster-state new \
    --logger zap --log-level warn --log-outputs stderr
  local i
  for (( i = 0; i < 200; i++ )); do
    if curl -sf --max-time 2 "http://127.0.0.1:${ETCD_CLIENT_PORT}/health" 2>/dev/null | grep -q '"health":"true"'; then
      return 0
    fi
    pid_alive etcd "${dir}" || { tail -n 20 "${dir}/etcd.log" >&2; die "etcd exited (log: ${dir}/etcd.log)"; }
    sleep 0.1
  done
  tail -n 20 "${dir}/etcd.log" >&2
  die "etcd did not become healthy (log: ${dir}/etcd.log)"
}

start_apiserver_proc() {
  local dir=$1
  # shellcheck disable=SC1091
  . "${dir}/state"
  local pki="${dir}/pki"
  spawn kube-apiserver "${dir}" "${BIN_DIR}/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="${APISERVER_PORT}" \
    --insecure-port=0 \
    --tls-cert-file="${pki}/apiserver.crt" \
    --tls-private-key-file="${pki}/apiserver.key" \
    --client-ca-file="${pki}/ca.crt" \
    --token-auth-file="${pki}/tokens.csv" \
    --authorization-mode=RBAC \
    --service-account-key-file="${pki}/sa.pub" \
    --service-account-signing-key-file="${pki}/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc \
    --api-audiences=https://kubernetes.default.svc \
    --service-cluster-ip-range=10.96.0.0/12 \
    --endpoint-reconciler-type=none \
    --cert-dir="${dir}/apiserver-certs" \
    --profiling=false \
    --v=1
  local t0 i
  t0=$(now_ms)
  for (( i = 0; i < APISERVER_READY_TIMEOUT * 5; i++ )); do
    apiserver_ready "${dir}" && { log "kube-apiserver ready on https://127.0.0.1:${APISERVER_PORT} (took $(elapsed "${t0}"))"; return 0; }
    pid_alive kube-apiserver "${dir}" || { tail -n 30 "${dir}/kube-apiserver.log" >&2; die "kube-apiserver exited (log: ${dir}/kube-apiserver.log)"; }
    sleep 0.2
  done
  tail -n 30 "${dir}/kube-apiserver.log" >&2
  die "kube-apiserver not ready after ${APISERVER_READY_TIMEOUT}s (log: ${dir}/kube-apiserver.log)"
}

start_controller_manager() {
  local dir=$1
  spawn kube-controller-manager "${dir}" "${BIN_DIR}/kube-controller-manager" \
    --kubeconfig="${dir}/kube-controller-manager.kubeconfig" \
    --service-account-private-key-file="${dir}/pki/sa.key" \
    --root-ca-file="${dir}/pki/ca.crt" \
    --controllers=serviceaccount-token,serviceaccount,namespace,garbagecollector \
    --leader-elect=false \
    --port=0 \
    --secure-port=0 \
    --v=1
}

wait_for_controllers() {
  local dir=$1 t0 i sa secret="" body
  t0=$(now_ms)
  for (( i = 0; i < CONTROLLERS_READY_TIMEOUT * 5; i++ )); do
    if [[ -z "${secret}" ]] && api_get "${dir}" /api/v1/namespaces/kube-system >/dev/null 2>&1; then
      sa=$(api_get "${dir}" /api/v1/namespaces/default/serviceaccounts/default 2>/dev/null || true)
      secret=$(tr -d ' \t\n' <<<"${sa}" | grep -o '"secrets":\[{"name":"[^"]*"' | sed 's/.*"name":"//; s/"$//' || true)
    fi
    if [[ -n "${secret}" ]]; then
      body=$(api_get "${dir}" "/api/v1/namespaces/default/secrets/${secret}" 2>/dev/null || true)
      if tr -d ' \t\n' <<<"${body}" | grep -q '"token":"[^"]'; then
        log "controllers ready: kube-system exists, default/default has token secret ${secret} (took $(elapsed "${t0}"))"
        return 0
      fi
    fi
    pid_alive kube-controller-manager "${dir}" || {
      tail -n 30 "${dir}/kube-controller-manager.log" >&2
      die "kube-controller-manager exited (log: ${dir}/kube-controller-manager.log)"; }
    sleep 0.2
  done
  tail -n 30 "${dir}/kube-controller-manager.log" >&2
  die "service-account token controller not ready after ${CONTROLLERS_READY_TIMEOUT}s (log: ${dir}/kube-controller-manager.log)"
}

# ---------------------------------------------------------------- commands ---

resolve_dir() { # resolve_dir [DIR] -> absolute dir
  local d=${1:-${DEFAULT_RUN_DIR}}
  mkdir -p "$d"
  (cd "$d" && pwd -P)
}

lock_dir() { # serialize start/stop/... on one state dir (fd 8; daemons never inherit it)
  exec 8>"$1/.lock"
  flock -w 120 8 || die "another ${SCRIPT_NAME} has been operating on $1 for 120s"
}

all_healthy() {
  local dir=$1
  [[ -f "${dir}/state" ]] || return 1
  pid_alive etcd "${dir}" && pid_alive kube-apiserver "${dir}" || return 1
  if [[ "${LOCAL_KUBE_NO_CONTROLLER_MANAGER:-0}" != 1 ]]; then
    pid_alive kube-controller-manager "${dir}" || return 1
  fi
  apiserver_ready "${dir}"
}

cmd_start() {
  local dir; dir=$(resolve_dir "${1:-}")
  binaries_present || die "Kubernetes binaries missing in ${BIN_DIR}; run '${SCRIPT_NAME} install && ${SCRIPT_NAME} build' first"
  lock_dir "${dir}"

  if all_healthy "${dir}"; then
    # shellcheck disable=SC1091
    . "${dir}/state"
    log "already running and healthy: https://127.0.0.1:${APISERVER_PORT} (KUBECONFIG=${dir}/kubeconfig)"
    return 0
  fi
  # anything left over from a previous (partial) run goes away
  stop_all "${dir}"

  local t0; t0=$(now_ms)
  log "starting local Kubernetes control plane in ${dir}"
  # on any failure below, do not leave half a control plane running (logs are kept)
  # shellcheck disable=SC2064
  trap "stop_all $(printf '%q' "${dir}") >/dev/null 2>&1 || true" EXIT
  rm -rf "${dir}/etcd-data" "${dir}/apiserver-certs"
  rm -f "${dir}"/*.log "${dir}/kubeconfig" "${dir}/kube-controller-manager.kubeconfig" "${dir}/env"
  gen_pki "${dir}"
  write_tokens "${dir}"

  local p_client p_peer p_api
  p_client=$(free_port)
  p_peer=$(free_port "${p_client}")
  p_api=$(free_port "${p_client}" "${p_peer}")
  printf 'ETCD_CLIENT_PORT=%s\nETCD_PEER_PORT=%s\nAPISERVER_PORT=%s\n' \
    "${p_client}" "${p_peer}" "${p_api}" >"${dir}/state"
  write_kubeconfig "${dir}/kubeconfig" "${dir}" "https://127.0.0.1:${p_api}" "${CONTEXT_NAME}"
  write_kubeconfig "${dir}/kube-controller-manager.kubeconfig" "${dir}" "https://127.0.0.1:${p_api}" "${CONTEXT_NAME}"
  log "pki generated (t+$(elapsed "${t0}")); ports: etcd ${p_client}/${p_peer}, apiserver ${p_api}"

  start_etcd "${dir}"
  log "etcd healthy on http://127.0.0.1:${p_client} (t+$(elapsed "${t0}"))"
  start_apiserver_proc "${dir}"
  if [[ "${LOCAL_KUBE_NO_CONTROLLER_MANAGER:-0}" == 1 ]]; then
    log "LOCAL_KUBE_NO_CONTROLLER_MANAGER=1: not starting kube-controller-manager"
  else
    start_controller_manager "${dir}"
    wait_for_controllers "${dir}"
  fi
  write_env "${dir}"
  trap - EXIT
  log "control plane ready in $(elapsed "${t0}")"
  log "  KUBECONFIG=${dir}/kubeconfig (context ${CONTEXT_NAME}); source ${dir}/env"
}

stop_all() {
  local dir=$1
  stop_proc kube-controller-manager "${dir}" TERM 5
  stop_proc kube-apiserver "${dir}" TERM "${APISERVER_STOP_GRACE}"
  stop_proc etcd "${dir}" TERM 10
  release_ports "${dir}"
}

cmd_stop() {
  local dir; dir=$(resolve_dir "${1:-}")
  lock_dir "${dir}"
  stop_all "${dir}"
  [[ -f "${dir}/state" ]] && write_env "${dir}"
  log "stopped (state kept in ${dir})"
}

cmd_stop_apiserver() {
  local dir; dir=$(resolve_dir "${1:-}")
  lock_dir "${dir}"
  [[ -f "${dir}/state" ]] || die "no local-kube state in ${dir}; run '${SCRIPT_NAME} start' first"
  local sig=${LOCAL_KUBE_STOP_SIGNAL:-TERM}
  sig=${sig#SIG}
  [[ "${sig}" == TERM || "${sig}" == KILL || "${sig}" == INT ]] || die "LOCAL_KUBE_STOP_SIGNAL must be TERM, INT or KILL"
  stop_proc kube-apiserver "${dir}" "${sig}" "${APISERVER_STOP_GRACE}"
  write_env "${dir}"
}

cmd_start_apiserver() {
  local dir; dir=$(resolve_dir "${1:-}")
  lock_dir "${dir}"
  [[ -f "${dir}/state" && -f "${dir}/pki/apiserver.crt" ]] || die "no local-kube state in ${dir}; run '${SCRIPT_NAME} start' first"
  pid_alive etcd "${dir}" || die "etcd is not running in ${dir}; use '${SCRIPT_NAME} start'"
  if pid_alive kube-apiserver "${dir}"; then
    log "kube-apiserver already running (pid $(read_pid kube-apiserver "${dir}"))"
  else
    # shellcheck disable=SC1091
    . "${dir}/state"
    local i
    for (( i = 0; i < 50; i++ )); do port_in_use "${APISERVER_PORT}" -tln || break; sleep 0.1; done
    start_apiserver_proc "${dir}"
  fi
  write_env "${dir}"
}

cmd_status() {
  local dir; dir=$(resolve_dir "${1:-}")
  [[ -f "${dir}/state" ]] || { log "not started (no state in ${dir})"; return 1; }
  # shellcheck disable=SC1091
  . "${dir}/state"
  local n
  for n in etcd kube-apiserver kube-controller-manager; do
    if pid_alive "$n" "${dir}"; then log "$(printf '%-24s running (pid %s)' "$n" "$(read_pid "$n" "${dir}")")";
    else log "$(printf '%-24s stopped' "$n")"; fi
  done
  if apiserver_ready "${dir}"; then
    log "API server https://127.0.0.1:${APISERVER_PORT} ready; KUBECONFIG=${dir}/kubeconfig"
    return 0
  fi
  log "API server https://127.0.0.1:${APISERVER_PORT} NOT ready"
  return 1
}

cmd_selftest() {
  local dir; dir=$(resolve_dir "${1:-${DEFAULT_RUN_DIR}-selftest}")
  command -v "${KUBECTL}" >/dev/null 2>&1 || die "kubectl not found (set KUBECTL=...)"
  local t0; t0=$(now_ms)
  LOCAL_KUBE_NO_CONTROLLER_MANAGER=0 cmd_start "${dir}"
  # shellcheck disable=SC2064
  trap "stop_all $(printf '%q' "${dir}") >/dev/null 2>&1 || true" EXIT
  local kc=("${KUBECTL}" --kubeconfig "${dir}/kubeconfig" --request-timeout=10s)
  local sa=selftest-sa

  "${kc[@]}" apply -f - >/dev/null <<EOF || die "selftest: kubectl apply ServiceAccount failed"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${sa}
  namespace: kube-system
EOF
  log "selftest: applied ServiceAccount kube-system/${sa}"

  local i secret="" token=""
  for (( i = 0; i < 150; i++ )); do
    secret=$("${kc[@]}" -n kube-system get serviceaccount "${sa}" -o 'jsonpath={.secrets[0].name}' 2>/dev/null || true)
    if [[ -n "${secret}" ]]; then
      token=$("${kc[@]}" -n kube-system get secret "${secret}" -o 'jsonpath={.data.token}' 2>/dev/null || true)
      [[ -n "${token}" ]] && break
    fi
    sleep 0.2
  done
  [[ -n "${token}" ]] || die "selftest: token secret for kube-system/${sa} did not appear within 30s"
  log "selftest: token secret ${secret} created"

  # authenticate with the SA token; pass it via a kubeconfig file, not argv/stdout
  local sakc="${dir}/selftest-sa.kubeconfig"
  ( umask 077
    base64 -d <<<"${token}" >"${sakc}.token"
    awk -v tf="${sakc}.token" '/^    token: / { getline t <tf; print "    token: " t; next } { print }' \
      "${dir}/kubeconfig" >"${sakc}"
    rm -f "${sakc}.token" )
  token=""
  local out rc=0
  out=$("${KUBECTL}" --kubeconfig "${sakc}" --request-timeout=10s auth can-i list pods -n kube-system 2>&1) || rc=$?
  rm -f "${sakc}"
  case "${out}" in
    yes|no) log "selftest: SA token authenticates (can-i list pods: ${out})" ;;
    *) die "selftest: SA token did not authenticate (rc=${rc}): ${out}" ;;
  esac
  # and a bogus token must be rejected, proving authentication is actually enforced
  if out=$("${KUBECTL}" --kubeconfig /dev/null --server "$(grep -m1 'server:' "${dir}/kubeconfig" | awk '{print $2}')" \
        --certificate-authority "${dir}/pki/ca.crt" --token not-a-valid-token \
        --request-timeout=10s auth can-i list pods 2>&1); then
    die "selftest: bogus token was accepted"
  fi
  grep -qi 'unauthorized' <<<"${out}" || warn "selftest: unexpected response for a bogus token: ${out}"
  log "selftest: bogus token rejected (Unauthorized)"

  trap - EXIT
  cmd_stop "${dir}"
  log "selftest PASSED in $(elapsed "${t0}")"
}

main() {
  local cmd=${1:-help}
  [[ $# -gt 0 ]] && shift
  case "${cmd}" in
    # install and build take no argument, so `install build start` runs them in turn.
    install)          cmd_install; if (( $# )); then main "$@"; fi ;;
    build)            cmd_build; if (( $# )); then main "$@"; fi ;;
    start)            cmd_start "$@" ;;
    stop)             cmd_stop "$@" ;;
    status)           cmd_status "$@" ;;
    stop-apiserver)   cmd_stop_apiserver "$@" ;;
    start-apiserver)  cmd_start_apiserver "$@" ;;
    selftest)         cmd_selftest "$@" ;;
    help|-h|--help)   usage ;;
    *) usage >&2; die "unknown command: ${cmd}" ;;
  esac
}

main "$@"; exit $?  # exit on the same line: safe even if this file is edited while running
