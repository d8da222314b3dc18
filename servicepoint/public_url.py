"""The doctor's ``public_url`` check: can a phone anywhere open the links the QR codes carry?

Every QR code (the kiosk's done screen, slips, posters, the volunteers' task links) points at
``http.public_url``. A resident on mobile data, or a daughter in another city, opens it only
when it is an https address on a public host, and only when something answers there. So, on a
production setting:

- a loopback or private host (foundation/reach.py says which) FAILs, naming ``http.public_url``;
- a plain ``http://`` address FAILs too (the pages carry sign-ins and phone numbers);
- ``<public_url>/healthz`` must answer 200 within a short timeout (``Probes.http_get``).

A lone Pi that serves its own Wi-Fi on purpose sets ``http.lan_only = true``: the first two
become a warning that says what it costs. In development nothing here fails; the config check
already says the settings are not a deployment's. Registered in servicepoint/doctor.py.
"""

from __future__ import annotations

from foundation.reach import lan_only_reason
from servicepoint.probes import CheckResult, Deployment, Probes

__all__ = ["HEALTH_TIMEOUT_S", "check_public_url"]

NAME = "public_url"
HEALTH_TIMEOUT_S = 3.0

_FIX = ("set http.public_url in servicepoint.toml (or SERVICEPOINT_HTTP__PUBLIC_URL in "
        "/etc/servicepoint/env) to the https address phones reach, e.g. https://sp.example.cn "
        "served by Caddy (config/caddy/README.md); a lone Pi that serves only its own Wi-Fi on "
        "purpose sets http.lan_only = true instead (docs/DEPLOYMENT.md, District).")


def check_public_url(settings: Deployment, probes: Probes) -> CheckResult:
    http = settings.server.http
    url = http.public_url
    problems = []
    why_lan = lan_only_reason(url)
    if why_lan is not None:
        problems.append(f"http.public_url {url} is {why_lan}: only phones on the service "
                        "point's Wi-Fi can open the QR codes' links")
    if not url.startswith("https://"):
        problems.append(f"http.public_url {url} is not https")
    status, why_not = probes.http_get(f"{url}/healthz", HEALTH_TIMEOUT_S)
    answer = None
    if status != 200:
        said = f"HTTP {status}" if status is not None else why_not or "no answer"
        answer = f"{url}/healthz does not answer ({said})"
    production = settings.server.environment == "production"
    if answer is not None:
        # Nobody, on any network, opens the links: a failure even for a LAN-only Pi.
        return CheckResult(NAME, "FAIL" if production else "WARN",
                           "; ".join([*problems, answer]) + ".",
                           "start the server (sudo systemctl start servicepoint-server) and, "
                           "behind Caddy, the proxy (sudo systemctl status caddy); " +
                           (_FIX if problems else "check that the address is right."))
    if not problems:
        return CheckResult(NAME, "OK", f"phones reach {url}; it answers.")
    said = "; ".join(problems)
    if http.lan_only:
        return CheckResult(NAME, "WARN", f"{said} (http.lan_only = true: on purpose).",
                           "residents on mobile data and family elsewhere cannot follow their "
                           "requests; a centre or a reverse tunnel makes the links reachable "
                           "(docs/DEPLOYMENT.md, District).")
    if not production:
        return CheckResult(NAME, "WARN", said + " (development settings).", _FIX)
    return CheckResult(NAME, "FAIL", said + ".", _FIX)
