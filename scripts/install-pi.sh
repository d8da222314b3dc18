#!/usr/bin/env bash
# Install servicepoint on a Raspberry Pi running Raspberry Pi OS Bookworm, as services that start
# at boot: the MQTT broker (with passwords), the server, the sensor node and the kiosk.
#
#   sudo scripts/install-pi.sh              install; after `git pull`, run it again to update
#   sudo scripts/install-pi.sh --no-kiosk   no touchscreen: no kiosk service, no Kivy
#   sudo scripts/install-pi.sh --public-url URL   the QR codes' https address (a centre's or a
#                                           tunnel's); without it, this Pi's, on its Wi-Fi only
#   scripts/install-pi.sh --dry-run         only show what it would do; changes nothing
#   scripts/install-pi.sh --root DIR --keep-venv   install into DIR as if it were / (for tests):
#                                           commands that would change this machine (apt,
#                                           users, owners, systemctl) are listed in
#                                           DIR/install-commands.log instead; --keep-venv uses
#                                           the program already in DIR/opt/servicepoint/venv
#
# It is safe to run again: secrets made the first time, settings files you edited (a newer shipped
# version goes beside them as FILE.new) and the QR codes' address (unless --public-url is given)
# are kept, and nothing is installed twice. Every step says what it did, with a summary at the end,
# all copied to /var/log/servicepoint/install.log. Step-by-step guide: docs/DEPLOYMENT.md.
set -euo pipefail

# Longer than the house's 400 lines on purpose: an installer reads best top to bottom in the
# order it changes the machine (packages, users, files, broker, secrets, units, checks), and a
# Pi's installer split over several files is harder to audit before running it as root.

SP_USER=servicepoint
SERVER_MQTT_USER=servicepoint-server
OPT=/opt/servicepoint
VENV="$OPT/venv"
KIOSK_USER=kiosk
KIOSK_STATE=/var/lib/servicepoint-kiosk
ETC=/etc/servicepoint
BROKER_ETC="$ETC/mosquitto"
STATE=/var/lib/servicepoint
LOG_DIR=/var/log/servicepoint
UNIT_DIR=/etc/systemd/system
WRAPPER=/usr/local/bin/servicepoint
MQTT_LOCAL=127.0.0.1:1883
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

dry_run=0
with_kiosk=1
keep_venv=0
public_url_given=""
# Every path this script writes is "$R<path>": R is empty on a Pi, DIR with --root. What goes
# inside the files (units, env files, the wrapper) is always the path on the Pi, without R.
R=""
usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ "$#" -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --no-kiosk) with_kiosk=0 ;;
        --keep-venv) keep_venv=1 ;;
        --public-url)
            [ "$#" -ge 2 ] || { printf -- '--public-url needs an address (https://...)\n' >&2; exit 2; }
            public_url_given="${2%/}"; shift ;;
        --root)
            [ "$#" -ge 2 ] || { printf -- '--root needs a folder\n' >&2; exit 2; }
            R="$(mkdir -p "$2" && cd "$2" && pwd)"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) printf 'unknown option: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

# Refuse, before anything changes, an address phones elsewhere could not open: the doctor's own
# judgement (foundation/reach.py, pure, read from this checkout with the system's python3).
if [ -n "$public_url_given" ]; then
    why_not="$(python3 -B - "$REPO" "$public_url_given" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from foundation.reach import lan_only_reason
url = sys.argv[2]
problems = []
if not url.isprintable() or any(c in url for c in ' "\\#'):
    problems.append("not a web address")
if not url.startswith("https://"):
    problems.append("not https")
reason = lan_only_reason(url)
if reason is not None:
    problems.append(reason)
print("; ".join(problems))
PY
)"
    if [ -n "$why_not" ]; then
        printf -- '--public-url %s is refused (%s): phones elsewhere could not open the QR codes. Give the https\n' \
            "$public_url_given" "$why_not" >&2
        printf 'address of the centre or of a tunnel to this Pi (docs/DEPLOYMENT.md, District), or\n' >&2
        printf 'leave --public-url out: the codes then open on this service point'"'"'s Wi-Fi only.\n' >&2
        exit 2
    fi
fi

summary=()
step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
did() {
    local line="$*"
    [ "$dry_run" -eq 1 ] && line="(dry run) $line"
    summary+=("$line"); note "$line"
}
warn() { summary+=("WARNING: $*"); printf '    WARNING: %s\n' "$*" >&2; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }
# Every command that changes the machine goes through run, so --dry-run can show it instead.
run() {
    if [ "$dry_run" -eq 1 ]; then
        printf '    would run:'; printf ' %q' "$@"; printf '\n'
    elif [ -n "$R" ]; then
        run_in_root "$@"
    else
        "$@"
    fi
}

# With --root, file commands act inside DIR (their paths already carry $R) without setting an
# owner, since the users may not exist here; anything else would change this machine, so it is
# written to DIR/install-commands.log (one shell-quoted command a line) and not run.
run_in_root() {
    case "$1" in
        install)
            local args=() skip=0 arg
            for arg in "$@"; do
                if [ "$skip" -eq 1 ]; then skip=0; continue; fi
                case "$arg" in -o|-g) skip=1 ;; *) args+=("$arg") ;; esac
            done
            "${args[@]}" ;;
        python3|chmod|"$R$VENV/bin/pip") "$@" ;;
        *)
            { printf '%q' "$1"; shift; printf ' %q' "$@"; printf '\n'; } >> "$R/install-commands.log"
            note "recorded, not run (--root): $(tail -n 1 "$R/install-commands.log")" ;;
    esac
}

# install_file SRC DEST MODE GROUP: put a file in place, but never overwrite one that differs
# from what we ship (someone edited it on the Pi); the shipped version goes beside it as .new.
install_file() {
    local src="$1" dest="$2" mode="$3" group="$4"
    if [ ! -e "$dest" ]; then
        run install -m "$mode" -o root -g "$group" "$src" "$dest"
        did "wrote $dest"
    elif cmp -s "$src" "$dest"; then
        note "$dest is already up to date"
    else
        run install -m "$mode" -o root -g "$group" "$src" "$dest.new"
        warn "kept your edited $dest; the shipped version is in $dest.new (compare: diff $dest $dest.new)"
    fi
}

# replace_file SRC DEST MODE: files of ours nobody edits on the Pi (units, drop-ins).
replace_file() {
    local src="$1" dest="$2" mode="$3"
    if [ -e "$dest" ] && cmp -s "$src" "$dest"; then
        note "$dest is already up to date"
    else
        run install -D -m "$mode" -o root -g root "$src" "$dest"
        did "installed $dest"
    fi
}

# env_value FILE KEY: the value of KEY=... in an environment file, empty when absent.
env_value() {
    [ -f "$1" ] || return 0
    grep -E "^$2=" "$1" | tail -n 1 | cut -d= -f2- || true
}

# ensure_env FILE KEY VALUE: add KEY=VALUE unless the file already has KEY (never replaced, so
# secrets made on the first run, and lines the installer added, survive every later run).
ensure_env() {
    local file="$1" key="$2" value="$3"
    if [ -n "$(env_value "$file" "$key")" ]; then
        note "$file already has $key (kept)"
    elif [ "$dry_run" -eq 1 ]; then
        note "would add $key to $file"
    else
        printf '%s=%s\n' "$key" "$value" >> "$file"
        did "added $key to $file"
    fi
}

secret() { openssl rand -hex "${1:-32}"; }

# toml_get FILE DOTTED.KEY DEFAULT: read one setting with Python's own TOML parser.
toml_get() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys, tomllib
path, key, default = sys.argv[1:]
try:
    node = tomllib.load(open(path, "rb"))
    for part in key.split("."):
        node = node[part]
except (OSError, KeyError, TypeError):
    node = default
print(node)
PY
}

# toml_set SRC DEST SECTION KEY=VALUE...: SRC with those keys of [SECTION] set, written to DEST
# (may be SRC). Only those lines change, so the file's comments and its other edits stay; true
# and false are booleans, anything else a string. A result TOML cannot read is never written.
toml_set() {
    python3 - "$@" <<'PY'
import json, re, sys, tomllib
src, dest, section, *pairs = sys.argv[1:]
lines = open(src, encoding="utf-8").read().splitlines()
start = next((i for i, line in enumerate(lines) if line.strip() == f"[{section}]"), None)
if start is None:
    lines += ["", f"[{section}]"]
    start = len(lines) - 1
end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")),
           len(lines))
for pair in pairs:
    key, value = pair.split("=", 1)
    line = f"{key} = {value if value in ('true', 'false') else json.dumps(value)}"
    found = [i for i in range(start + 1, end) if re.match(rf"\s*{re.escape(key)}\s*=", lines[i])]
    if found:
        lines[found[0]] = line
    else:
        keys = [i for i in range(start + 1, end) if re.match(r"\s*[A-Za-z0-9_-]+\s*=", lines[i])]
        lines.insert((keys[-1] if keys else start) + 1, line)
        end += 1
text = "\n".join(lines) + "\n"
tomllib.loads(text)
with open(dest, "w", encoding="utf-8") as out:
    out.write(text)
PY
}

# lan_address: this machine's first IPv4 address on its network (hostname -I), empty when it has
# none; with --root, SERVICEPOINT_TEST_LAN_IP stands in, so tests never depend on this machine.
lan_address() {
    local address
    if [ -n "$R" ] && [ -n "${SERVICEPOINT_TEST_LAN_IP:-}" ]; then
        printf '%s' "$SERVICEPOINT_TEST_LAN_IP"; return 0
    fi
    for address in $(hostname -I 2>/dev/null || true); do
        case "$address" in *:*) ;; *) printf '%s' "$address"; return 0 ;; esac
    done
}

# ------------------------------------------------------------------------------------------------
step "0/9 Checking this machine"
[ -f "$REPO/pyproject.toml" ] || die "run this from a servicepoint checkout (no pyproject.toml in $REPO)"
if [ "$dry_run" -eq 0 ] && [ -z "$R" ] && [ "$(id -u)" -ne 0 ]; then
    die "run it with sudo: sudo $0 $*"
fi
codename=unknown
if [ -r /etc/os-release ]; then
    codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-unknown}")"
fi
[ "$codename" = bookworm ] || warn "made for Raspberry Pi OS / Debian 12 (bookworm); this is '$codename'"
pi_model=""
if [ -r /proc/device-tree/model ]; then
    pi_model="$(tr -d '\0' < /proc/device-tree/model)"
fi
note "source: $REPO"
note "machine: ${pi_model:-not a Raspberry Pi} ($(uname -m)), OS: $codename"
[ "$dry_run" -eq 1 ] && note "dry run: nothing will be changed"
[ -n "$R" ] && note "installing into $R as if it were / (--root)"
if [ "$dry_run" -eq 0 ]; then
    install -d -m 0755 "$R$LOG_DIR"
    # From here on, everything printed also goes to the install log.
    exec > >(tee -a "$R$LOG_DIR/install.log") 2>&1
    note "$(date -Is): install started (log: $R$LOG_DIR/install.log)"
fi

# ------------------------------------------------------------------------------------------------
step "1/9 Debian packages"
packages=(python3 python3-venv python3-pip mosquitto mosquitto-clients sqlite3 openssl
          fonts-wqy-microhei libmtdev1 espeak-ng alsa-utils libusb-1.0-0 gpiod logrotate)
# gpiozero needs lgpio on a Pi 5 (RPi.GPIO does not work there); it is a Pi-only package.
if [ -n "$pi_model" ]; then packages+=(python3-lgpio); fi
missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    note "installing: ${missing[*]} (a few minutes)"
    run env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    did "installed Debian packages: ${missing[*]}"
else
    note "all Debian packages are already installed"
fi

# ------------------------------------------------------------------------------------------------
step "2/9 System user '$SP_USER'"
if getent passwd "$SP_USER" >/dev/null; then
    note "user $SP_USER already exists"
else
    run useradd --system --user-group --home-dir "$STATE" --shell /usr/sbin/nologin \
        --comment "servicepoint services" "$SP_USER"
    did "created system user $SP_USER (no login, no password)"
fi
if [ "$with_kiosk" -eq 1 ]; then
    # The kiosk runs as its own user: it needs the display, the touchscreen, the speaker and
    # microphone (audio), a serial or USB slip printer (dialout, lp, plugdev), and none of the
    # server's files or secrets.
    kiosk_groups=()
    for group in video render input audio dialout lp plugdev; do
        getent group "$group" >/dev/null && kiosk_groups+=("$group")
    done
    if getent passwd "$KIOSK_USER" >/dev/null; then
        note "user $KIOSK_USER already exists"
    else
        run useradd --system --user-group --home-dir "$KIOSK_STATE" --shell /usr/sbin/nologin \
            --comment "servicepoint kiosk" "$KIOSK_USER"
        did "created system user $KIOSK_USER (no login, no password)"
    fi
    for group in "${kiosk_groups[@]}"; do
        if id -nG "$KIOSK_USER" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
            note "$KIOSK_USER is already in group $group"
        else
            run usermod -aG "$group" "$KIOSK_USER"
            did "added $KIOSK_USER to group $group"
        fi
    done
fi
# The sensor node reads GPIO and SPI devices, which these groups may open on Raspberry Pi OS.
for group in gpio spi i2c; do
    if getent group "$group" >/dev/null; then
        if id -nG "$SP_USER" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
            note "$SP_USER is already in group $group"
        else
            run usermod -aG "$group" "$SP_USER"
            did "added $SP_USER to group $group"
        fi
    fi
done

# ------------------------------------------------------------------------------------------------
step "3/9 Program in $VENV"
run install -d -m 0755 "$R$OPT"
if [ "$keep_venv" -eq 1 ]; then
    [ -x "$R$VENV/bin/servicepoint" ] || die "--keep-venv: no program at $R$VENV/bin/servicepoint"
    note "using the program already in $R$VENV (--keep-venv)"
else
    if [ -x "$R$VENV/bin/python" ]; then
        note "virtual environment already exists"
    else
        # --system-site-packages lets gpiozero find python3-lgpio from apt, the way the Raspberry
        # Pi documentation recommends; everything else is installed into the venv itself.
        run python3 -m venv --system-site-packages "$R$VENV"
        did "created $VENV"
    fi
    # What this Pi runs: the server and the sensor node, and the kiosk's Kivy unless --no-kiosk.
    extras=server,sensors
    [ "$with_kiosk" -eq 1 ] && extras="$extras,kiosk"
    note "installing servicepoint [$extras] and its Python packages (several minutes on a Pi)"
    run "$R$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
    run "$R$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade "${REPO}[$extras]"
    run "$R$VENV/bin/python" -m foundation.catalogs compile  # the words' .mo, beside their .po
    did "installed servicepoint $(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/pyproject.toml") [$extras] into $VENV"
fi
run install -d -m 0755 "$R$OPT/docs"
for doc in "$REPO"/docs/*.md; do replace_file "$doc" "$R$OPT/docs/$(basename "$doc")" 0644; done
wrapper_tmp="$(mktemp)"
trap 'rm -f "$wrapper_tmp" "${acl_tmp:-}" "${settings_tmp:-}" "${left_tmp:-}"' EXIT
cat > "$wrapper_tmp" <<EOF
#!/bin/sh
# servicepoint as the service user, with the deployment's settings and secrets ($ETC/env).
# Installed by scripts/install-pi.sh. Example: sudo servicepoint doctor
set -eu
if [ "\$(id -u)" -ne 0 ]; then exec sudo "\$0" "\$@"; fi
set -a; . $ETC/env; set +a
cd $STATE
exec runuser -u $SP_USER -- $VENV/bin/servicepoint "\$@"
EOF
replace_file "$wrapper_tmp" "$R$WRAPPER" 0755

# ------------------------------------------------------------------------------------------------
step "4/9 Settings in $ETC"
# Others may pass through (not list) the folder: the kiosk user reads servicepoint.toml, which
# holds no secrets (0644); the secrets are in the env files, readable by their service's group.
run install -d -m 0751 -o root -g "$SP_USER" "$R$ETC"
for file in "$REPO"/config/*.toml; do
    name="$(basename "$file")"
    [ "$name" = demo-site.toml ] && continue  # demo people and passwords do not belong on a site
    [ "$name" = servicepoint.toml ] && continue  # below, with the address phones open
    install_file "$file" "$R$ETC/$name" 0640 "$SP_USER"
done
# The address the QR codes carry (http.public_url). The shipped one, http://127.0.0.1:8080, opens
# on no phone at all. --public-url gives the https address of a centre or of a tunnel to this Pi;
# without it the Pi serves its own Wi-Fi: its address there, the server listening on it, and
# http.lan_only = true (the doctor then warns instead of failing). An address set before (in the
# file, or SERVICEPOINT_HTTP__PUBLIC_URL in env) is kept unless --public-url is given.
shipped_settings="$REPO/config/servicepoint.toml"
installed_settings="$R$ETC/servicepoint.toml"
current_settings="$shipped_settings"; [ -f "$installed_settings" ] && current_settings="$installed_settings"
shipped_url="$(toml_get "$shipped_settings" http.public_url "")"
# "URL HOST LAN_ONLY" as a settings file has them ([http] public_url, host, lan_only).
http_now() {
    printf '%s %s %s' "$(toml_get "$1" http.public_url http://127.0.0.1:8080)" "$(toml_get "$1" http.host 127.0.0.1)" \
        "$(toml_get "$1" http.lan_only false | tr '[:upper:]' '[:lower:]')"
}
read -r public_url listen lan_only <<< "$(http_now "$current_settings")"
port="$(env_value "$R$ETC/env" SERVICEPOINT_HTTP__PORT)"
[ -n "$port" ] || port="$(toml_get "$current_settings" http.port 8080)"
env_url="$(env_value "$R$ETC/env" SERVICEPOINT_HTTP__PUBLIC_URL)"
if [ -n "$public_url_given" ]; then
    public_url="$public_url_given" lan_only=false
elif [ -n "$env_url" ]; then
    public_url="$env_url"
    note "public_url $env_url (SERVICEPOINT_HTTP__PUBLIC_URL in $ETC/env) is kept"
elif [ "$public_url" != "$shipped_url" ]; then
    note "public_url $public_url (set in $ETC/servicepoint.toml) is kept"
elif address="$(lan_address)" && [ -n "$address" ]; then
    public_url="http://$address:$port" lan_only=true
    # The server listens on the Wi-Fi too, not only for the kiosk on this Pi.
    case "$listen" in 127.*|localhost|::1) listen=0.0.0.0 ;; esac
else
    warn "this machine has no network address yet, so the QR codes cannot point at it: connect it to the service point's network and run the installer again (or give --public-url)"
fi
settings_tmp="$(mktemp)" left_tmp="$(mktemp)"
toml_set "$shipped_settings" "$settings_tmp" http "host=$listen" "public_url=$public_url" "lan_only=$lan_only"
# An installed file nobody edited is the shipped one, with the address a run of this installer
# gave it (or none, from an installer before --public-url): replaced, not kept as an edit.
unedited=0
if [ -f "$installed_settings" ]; then
    read -r was_url was_host was_lan_only <<< "$(http_now "$installed_settings")"
    toml_set "$shipped_settings" "$left_tmp" http "host=$was_host" "public_url=$was_url" "lan_only=$was_lan_only"
    if cmp -s "$shipped_settings" "$installed_settings" || cmp -s "$left_tmp" "$installed_settings"; then
        unedited=1
    fi
fi
if [ "$unedited" -eq 1 ] && ! cmp -s "$settings_tmp" "$installed_settings"; then
    run install -m 0644 -o root -g "$SP_USER" "$settings_tmp" "$installed_settings"
    did "wrote $ETC/servicepoint.toml"
else
    install_file "$settings_tmp" "$installed_settings" 0644 "$SP_USER"
fi
# A file edited on the Pi keeps every edit but the address the QR codes carry.
if [ -f "$installed_settings" ] && [ "$(http_now "$installed_settings")" != "$public_url $listen $lan_only" ]; then
    if [ "$dry_run" -eq 1 ]; then
        note "would set [http] public_url, host and lan_only in $ETC/servicepoint.toml"
    else
        toml_set "$installed_settings" "$installed_settings" http "host=$listen" "public_url=$public_url" "lan_only=$lan_only"
        did "set [http] public_url = $public_url, host = $listen, lan_only = $lan_only in $ETC/servicepoint.toml"
    fi
fi
if [ -n "$public_url_given" ] && [ -n "$env_url" ] && [ "$env_url" != "$public_url" ]; then
    # The environment overrides the file: the line in env must say the same, or the server and
    # the doctor would go on using the old address.
    if [ "$dry_run" -eq 1 ]; then
        note "would set SERVICEPOINT_HTTP__PUBLIC_URL=$public_url in $ETC/env"
    else
        env_tmp="$(grep -v '^SERVICEPOINT_HTTP__PUBLIC_URL=' "$R$ETC/env"; printf 'SERVICEPOINT_HTTP__PUBLIC_URL=%s' "$public_url")"
        printf '%s\n' "$env_tmp" > "$R$ETC/env"  # in place: the file keeps its owner and mode
        did "set SERVICEPOINT_HTTP__PUBLIC_URL=$public_url in $ETC/env"
    fi
fi
note "QR codes: $public_url (lan_only = $lan_only)"
# An install from before the kiosk had its own user made it 0640: the kiosk must read it too.
run chmod 0644 "$R$ETC/servicepoint.toml"
# Read the ids from the installed files (or the shipped ones on a dry run).
settings_file="$R$ETC/servicepoint.toml"; [ -f "$settings_file" ] || settings_file="$REPO/config/servicepoint.toml"
sensors_file="$R$ETC/sensors.toml"; [ -f "$sensors_file" ] || sensors_file="$REPO/config/sensors.toml"
site_id="$(toml_get "$settings_file" site.id site-01)"
timezone="$(toml_get "$settings_file" site.timezone Asia/Shanghai)"
prefix="$(toml_get "$settings_file" mqtt.topic_prefix servicepoint)"
discovery="$(toml_get "$settings_file" mqtt.discovery_prefix homeassistant)"
node_id="$(toml_get "$sensors_file" node.id node-1)"
has_adc="$(toml_get "$sensors_file" adc.chip none)"
note "site '$site_id', sensor node '$node_id', topics under $prefix/$site_id/"
# A node's MQTT login is its node id, and the ACL lets a login write under <prefix>/<site>/<login>/.
case "$node_id" in
    alerts|"$SERVER_MQTT_USER") die "[node].id '$node_id' in $sensors_file is reserved; choose another" ;;
esac

# ------------------------------------------------------------------------------------------------
step "5/9 Settings and secrets of each service: $ETC/env, sensors.env, kiosk.env (made once, then kept)"
# Each program gets only what it needs: the server its secret key, the kiosk's key and its broker
# login (env); the sensor node its own broker login (sensors.env); the kiosk its key (kiosk.env).
# The systemd units read these files (EnvironmentFile=); the wrapper reads env.
env_files=("$ETC/env:$SP_USER" "$ETC/sensors.env:$SP_USER")
[ "$with_kiosk" -eq 1 ] && env_files+=("$ETC/kiosk.env:$KIOSK_USER")
for entry in "${env_files[@]}"; do
    file="${entry%%:*}" group="${entry##*:}"
    if [ ! -e "$R$file" ]; then
        run install -m 0640 -o root -g "$group" /dev/null "$R$file"
        did "created $file (readable by root and $group only)"
    fi
    ensure_env "$R$file" SERVICEPOINT_ENVIRONMENT production
    ensure_env "$R$file" SERVICEPOINT_CONFIG "$ETC/servicepoint.toml"
done
server_password="$(env_value "$R$ETC/env" SERVICEPOINT_MQTT_URL | sed -n 's#^mqtts\{0,1\}://[^:]*:\([^@]*\)@.*#\1#p')"
[ -n "$server_password" ] || server_password="$(secret 24)"
node_password="$(env_value "$R$ETC/sensors.env" SERVICEPOINT_MQTT_URL | sed -n 's#^mqtts\{0,1\}://[^:]*:\([^@]*\)@.*#\1#p')"
[ -n "$node_password" ] || node_password="$(secret 24)"
ensure_env "$R$ETC/env" SERVICEPOINT_DATA_DIR "$STATE"
ensure_env "$R$ETC/env" SERVICEPOINT_SECRET_KEY "$(secret 32)"
ensure_env "$R$ETC/env" SERVICEPOINT_SECURITY__KIOSK_KEY "$(secret 16)"
ensure_env "$R$ETC/env" SERVICEPOINT_MQTT_URL "mqtt://$SERVER_MQTT_USER:$server_password@$MQTT_LOCAL"
ensure_env "$R$ETC/sensors.env" SERVICEPOINT_DATA_DIR "$STATE"
ensure_env "$R$ETC/sensors.env" SERVICEPOINT_MQTT_URL "mqtt://$node_id:$node_password@$MQTT_LOCAL"
if [ "$with_kiosk" -eq 1 ]; then
    # The kiosk keeps its outbox and draft in its own state folder (the unit's StateDirectory).
    ensure_env "$R$ETC/kiosk.env" SERVICEPOINT_DATA_DIR "$KIOSK_STATE"
    kiosk_key="$(env_value "$R$ETC/env" SERVICEPOINT_SECURITY__KIOSK_KEY)"
    ensure_env "$R$ETC/kiosk.env" SERVICEPOINT_SECURITY__KIOSK_KEY "${kiosk_key:-$(secret 16)}"
    # In production the kiosk refuses the staff PIN the code ships: each Pi gets its own.
    ensure_env "$R$ETC/kiosk.env" SERVICEPOINT_KIOSK__STAFF_PIN "$(shuf -i 100000-999999 -n 1)"
fi

# The staff's alert channels hold secrets only the site has (robot keys, mail logins), so
# alerts.toml names the variable for each; in production the server does not start while one
# of them is unset. Say which ones, once per run, until someone has filled them in.
alerts_file="$R$ETC/alerts.toml"; [ -f "$alerts_file" ] || alerts_file="$REPO/config/alerts.toml"
missing_alert_urls=()
while read -r variable; do
    [ -n "$variable" ] || continue
    [ -n "$(env_value "$R$ETC/env" "$variable")" ] || missing_alert_urls+=("$variable")
done < <(python3 - "$alerts_file" <<'PY'
import sys, tomllib
sites = tomllib.load(open(sys.argv[1], "rb")).get("sites", {})
for site in sites.values():
    for staff in site.get("staff", []):
        for channel in staff.get("channels", []):
            print(channel.get("url_env", ""))
PY
)
if [ "${#missing_alert_urls[@]}" -gt 0 ]; then
    warn "the server starts only once $ETC/env has the alert channels' URLs: ${missing_alert_urls[*]} (docs/DEPLOYMENT.md, 'Alert channels'; or remove the channels from $ETC/alerts.toml)"
fi

# ------------------------------------------------------------------------------------------------
step "6/9 MQTT broker: passwords and access rules in $BROKER_ETC"
run install -d -m 0750 -o root -g mosquitto "$R$BROKER_ETC"
install_file "$REPO/config/mosquitto/mosquitto.conf" "$R$BROKER_ETC/mosquitto.conf" 0640 mosquitto
acl_tmp="$(mktemp)"
sed -e "s/@PREFIX@/$prefix/g" -e "s/@SITE_ID@/$site_id/g" -e "s/@DISCOVERY@/$discovery/g" \
    -e "s/@SERVER_USER@/$SERVER_MQTT_USER/g" "$REPO/config/mosquitto/acl.template" > "$acl_tmp"
install_file "$acl_tmp" "$R$BROKER_ETC/acl" 0640 mosquitto
if [ ! -e "$R$BROKER_ETC/passwd" ]; then
    run install -m 0640 -o root -g mosquitto /dev/null "$R$BROKER_ETC/passwd"
    did "created $BROKER_ETC/passwd"
fi
# Setting a login again to the same password is harmless, so this runs every time: it also
# repairs a password file that lost a login.
set_broker_password() {
    if [ "$dry_run" -eq 1 ]; then  # a dry run must not print the password
        note "would run: mosquitto_passwd -b $BROKER_ETC/passwd $1 ********"
    else
        mosquitto_passwd -b "$R$BROKER_ETC/passwd" "$1" "$2"
    fi
}
set_broker_password "$SERVER_MQTT_USER" "$server_password"
set_broker_password "$node_id" "$node_password"
did "broker logins: $SERVER_MQTT_USER (the server) and $node_id (the sensor node)"
# Debian's own broker service would take port 1883; ours replaces it.
if [ -z "$R" ] && { systemctl is-enabled --quiet mosquitto.service 2>/dev/null || systemctl is-active --quiet mosquitto.service 2>/dev/null; }; then
    run systemctl disable --now mosquitto.service
    did "switched off Debian's mosquitto.service (servicepoint-broker replaces it)"
fi

# ------------------------------------------------------------------------------------------------
step "7/9 Services, logs and clock"
for unit in "$REPO"/config/systemd/servicepoint*; do
    replace_file "$unit" "$R$UNIT_DIR/$(basename "$unit")" 0644
done
replace_file "$REPO/config/systemd/journald.conf.d/servicepoint.conf" "$R/etc/systemd/journald.conf.d/servicepoint.conf" 0644
replace_file "$REPO/config/systemd/timesyncd.conf.d/servicepoint.conf" "$R/etc/systemd/timesyncd.conf.d/servicepoint.conf" 0644
replace_file "$REPO/config/logrotate/servicepoint" "$R/etc/logrotate.d/servicepoint" 0644
run install -d -m 0750 -o "$SP_USER" -g "$SP_USER" "$R$STATE" "$R$STATE/backups"
kiosk_units=()
for unit in "$REPO"/config/kiosk/*.service; do
    [ -e "$unit" ] || continue
    [ "$with_kiosk" -eq 1 ] || continue
    for ini in "$REPO"/config/kiosk/*.ini; do
        [ -e "$ini" ] && replace_file "$ini" "$R$OPT/config/kiosk/$(basename "$ini")" 0644
    done
    # The unit must run this installer's program with the env file made in step 5.
    grep -q "^ExecStart=$VENV/bin/servicepoint " "$unit" || die "$unit does not start $VENV/bin/servicepoint"
    grep -q "^EnvironmentFile=$ETC/kiosk.env" "$unit" || die "$unit does not read $ETC/kiosk.env"
    replace_file "$unit" "$R$UNIT_DIR/$(basename "$unit")" 0644
    kiosk_units+=("$(basename "$unit")")
done
run systemctl daemon-reload
run systemctl restart systemd-journald
if systemctl list-unit-files systemd-timesyncd.service >/dev/null 2>&1; then
    run systemctl restart systemd-timesyncd
fi
run timedatectl set-timezone "$timezone"
run timedatectl set-ntp true
did "time zone $timezone, clock set from the network (ntp.aliyun.com first)"
if [ "$has_adc" != none ]; then
    if [ -n "$R" ]; then
        note "SPI for the MCP3008: not checked (--root)"
    elif [ -e /dev/spidev0.0 ]; then
        note "SPI is already on (the MCP3008 needs it)"
    elif command -v raspi-config >/dev/null; then
        run raspi-config nonint do_spi 0
        warn "switched SPI on for the MCP3008: reboot once when this finishes (sudo reboot)"
    else
        warn "sensors.toml has an [adc] (MCP3008) but SPI is off and raspi-config is missing"
    fi
fi

# ------------------------------------------------------------------------------------------------
step "8/9 Database"
run "$WRAPPER" db upgrade
did "database in $STATE is up to date"

# ------------------------------------------------------------------------------------------------
step "9/9 Starting the services"
units=(servicepoint-broker.service servicepoint-server.service servicepoint-sensors.service
       servicepoint.target servicepoint-backup.timer)
if [ "${#kiosk_units[@]}" -gt 0 ]; then units+=("${kiosk_units[@]}"); fi
run systemctl enable "${units[@]}"
# restart, not start: a second run (an update) must load the new program and settings.
run systemctl restart servicepoint-broker.service
run systemctl restart servicepoint-server.service servicepoint-sensors.service
if [ "${#kiosk_units[@]}" -gt 0 ]; then run systemctl restart "${kiosk_units[@]}"; fi
run systemctl start servicepoint-backup.timer
did "enabled at boot and (re)started: ${units[*]}"

printf '\n==> Checking the result (servicepoint doctor)\n'
if [ "$dry_run" -eq 1 ]; then
    note "would run: $WRAPPER doctor"
elif [ -n "$R" ]; then
    note "not run (--root): $WRAPPER doctor"
else
    # The doctor asks the server's /healthz: give a server that was just restarted time to answer.
    probe_host=127.0.0.1
    case "$listen" in 0.0.0.0|127.*|localhost|::|::1) ;; *) probe_host="$listen" ;; esac
    python3 - "http://$probe_host:$port/healthz" <<'PY' || note "the server does not answer yet on port $port"
import sys, time, urllib.request
for _ in range(60):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2).close()
        break
    except OSError:
        time.sleep(1)
else:
    sys.exit(1)
PY
    "$WRAPPER" doctor || warn "servicepoint doctor found problems (above); each line says how to fix it"
fi

printf '\n==> Done. What this run did:\n'
for line in "${summary[@]}"; do printf '  - %s\n' "$line"; done
cat <<EOF

Next:
  - pins: edit $ETC/sensors.toml, then: sudo systemctl restart servicepoint-sensors
  - people and places: sudo servicepoint seed /path/to/site.toml
  - check everything: sudo servicepoint doctor
  - logs: journalctl -u servicepoint-server -e   (also -broker, -sensors; add -f to follow)
  - guide: $OPT/docs/DEPLOYMENT.md
EOF
if [ "$lan_only" = true ]; then
    cat <<EOF

The QR codes open $public_url.
Phones can open the QR codes only on this service point's Wi-Fi. To let a resident's daughter in
another city open them, see docs/DEPLOYMENT.md (district / reverse tunnel; on this Pi:
$OPT/docs/DEPLOYMENT.md), then run this installer again with --public-url https://<that address>.
EOF
fi
