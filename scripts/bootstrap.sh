#!/usr/bin/env bash
# Installs whatever the README's two commands need and is missing: Debian packages
# (with sudo when not root), the virtual environment and the Python packages.
# Usage: scripts/bootstrap.sh demo|test     (idempotent; fast when nothing is missing)
set -euo pipefail
purpose="${1:-demo}"
cd "$(dirname "$0")/.."

log() { printf '[bootstrap] %s\n' "$*" >&2; }

# Debian packages each purpose needs. The demo needs the broker, a CJK font, touch input
# support and speech; the tests also need PostgreSQL, a QR decoder, a browser, shellcheck,
# systemd-analyze (to check the install script and the units) and pdftoppm (to look at the
# PDFs the server prints).
run_packages=(mosquitto fonts-wqy-microhei libmtdev1 espeak-ng)
test_packages=(postgresql libzbar0 chromium shellcheck systemd poppler-utils caddy)
packages=("${run_packages[@]}")
[ "$purpose" = test ] && packages+=("${test_packages[@]}")

python_bin="${PYTHON:-python3}"
if ! "$python_bin" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    packages+=(python3-venv)
fi

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "installing Debian packages: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

venv=.venv
stamp="$venv/.installed-$purpose"
if [ ! -x "$venv/bin/python" ]; then
    log "creating the virtual environment in $venv"
    "$python_bin" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    # Every program's packages (the demo runs them all); the tests add the dev tools.
    extras="server,sensors,kiosk"
    [ "$purpose" = test ] && extras="$extras,dev"
    log "installing Python packages (.[${extras}])"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[${extras}]"
    touch "$stamp"
fi
"$venv/bin/python" -m foundation.catalogs compile  # translations: .po -> .mo (not committed)
