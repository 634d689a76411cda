#!/bin/sh
# OpenAssist agent installer, served by the OpenAssist server at https://SERVER/agent/install.sh
# (fetch it with curl --cacert; the server's CA is in this script, for the agent to trust).
#
#   sh install.sh --activation-id ID --activation-code CODE [--name NAME]
#   sh install.sh --uninstall
# Options: --prefix DIR (/opt/openassist-agent), --state-dir DIR (/var/lib/openassist-agent),
# --unit-dir DIR (/etc/systemd/system), --run-in-background (no systemd: start the agent here).
set -eu
SERVER='@SERVER@'
PACKAGE='@PACKAGE@'
SHA256='@SHA256@'

prefix=/opt/openassist-agent
state=/var/lib/openassist-agent
units=/etc/systemd/system
activation_id=''
activation_code=''
name=''
action=install
start=systemd
while [ $# -gt 0 ]; do
  case "$1" in
    --activation-id) activation_id=$2; shift 2 ;;
    --activation-code) activation_code=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --state-dir) state=$2; shift 2 ;;
    --unit-dir) units=$2; shift 2 ;;
    --run-in-background) start=background; shift ;;
    --uninstall) action=uninstall; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

say() { echo "openassist-agent: $*" >&2; }
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

uninstall() {
  if has_systemd && [ -f "$units/openassist-agent.service" ]; then
    systemctl disable --now openassist-agent >/dev/null 2>&1 || true
  fi
  if [ -f "$prefix/agent.pid" ]; then
    pid=$(cat "$prefix/agent.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$units/openassist-agent.service"
  if has_systemd; then systemctl daemon-reload || true; fi
  rm -rf "$prefix" "$state"
  say "removed $prefix, $state and $units/openassist-agent.service"
}

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    found=$(command -v "$candidate" 2>/dev/null) || continue
    if "$found" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
        2>/dev/null; then
      echo "$found"
      return 0
    fi
  done
  return 1
}

install() {
  [ -n "$activation_id" ] && [ -n "$activation_code" ] || {
    say "give --activation-id and --activation-code (from CreateActivation)"; exit 2; }
  [ ! -e "$state/identity.json" ] || { say "$state holds a registered agent already"; exit 1; }
  python=$(find_python) || {
    present=$(python3 -V 2>/dev/null) || present=none
    say "needs Python 3.11 or newer with its venv module (python3 here: $present); install python3.11 and python3.11-venv, then run this again"
    exit 1
  }
  umask 022
  mkdir -p "$prefix"
  cat >"$prefix/ca.pem" <<'CERTIFICATE'
@CA@
CERTIFICATE
  package="$prefix/$PACKAGE"
  curl -fsS --cacert "$prefix/ca.pem" -o "$package" "https://$SERVER/agent/packages/$PACKAGE"
  digest=$("$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$package")
  [ "$digest" = "$SHA256" ] || { say "$PACKAGE: SHA-256 $digest, the server said $SHA256"; exit 1; }
  "$python" -m venv "$prefix/venv"
  "$prefix/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    'msgspec>=0.18' 'cryptography>=42'
  "$prefix/venv/bin/python" - "$package" <<'PYTHON'
import sys, sysconfig, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sysconfig.get_paths()["purelib"])
PYTHON
  rm -f "$package"
  openassist="$prefix/venv/bin/openassist"
  printf '#!/bin/sh\nexec "%s/venv/bin/python" -m openassist.cli.main "$@"\n' "$prefix" >"$openassist"
  chmod 755 "$openassist"
  "$openassist" --log-level warning agent register --server "$SERVER" --ca "$prefix/ca.pem" \
    --activation-id "$activation_id" --activation-code "$activation_code" \
    --state-dir "$state" --name "$name"
  "$openassist" agent install-service --state-dir "$state" --unit-dir "$units" >/dev/null
  if [ "$start" = background ]; then
    nohup "$openassist" agent run --state-dir "$state" >"$prefix/agent.log" 2>&1 &
    echo $! >"$prefix/agent.pid"
    say "agent running in the background (pid $(cat "$prefix/agent.pid"), log $prefix/agent.log)"
  elif has_systemd; then
    systemctl daemon-reload
    systemctl enable --now openassist-agent
    say "agent installed and started: systemctl status openassist-agent"
  else
    say "systemd is not running here: start the agent with $openassist agent run --state-dir $state"
  fi
}

if [ "$action" = uninstall ]; then uninstall; else install; fi
