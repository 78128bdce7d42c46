"""`make audit`: known vulnerabilities in the pinned dependencies (requirements.lock), with pip-audit.

Fails (exit 1) on any known vulnerability not listed, with its reason, in ops/accepted-vulnerabilities.toml.
When the vulnerability service cannot be reached (a machine without access to it), the packages it
could not check are reported as NOT AUDITED; that fails only with AUDIT_STRICT=1, so that CI on such a
machine still passes while saying plainly that nothing was checked.

    .venv/bin/python ops/audit.py                 # PyPI's advisory data (the default service)
    AUDIT_SERVICE=osv AUDIT_STRICT=1 .venv/bin/python ops/audit.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
ACCEPTED = ROOT / "ops" / "accepted-vulnerabilities.toml"


def accepted() -> dict[str, str]:
    """Accepted vulnerability ids (and their aliases) with the reason given."""
    data = tomllib.loads(ACCEPTED.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for entry in data.get("accepted", []):
        if not entry.get("reason", "").strip():
            raise SystemExit(f"{ACCEPTED.name}: {entry.get('id')} has no reason")
        found[entry["id"]] = f"{entry.get('package', '?')}: {entry['reason'].strip()}"
    return found


def run_pip_audit(service: str) -> dict | None:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    cmd = [str(pip_audit), "-r", str(LOCK), "--no-deps", "--disable-pip", "-f", "json"]
    cmd += ["--progress-spinner", "off", "-s", service]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit did not answer ({service}): {last}")
        return None


def evaluate(report: dict, allowed: dict[str, str]) -> tuple[list[str], list[str], list[str], int]:
    """(unexplained vulnerabilities, accepted ones with their reasons, packages not audited, audited)."""
    unexplained: list[str] = []
    accepted_lines: list[str] = []
    skipped: list[str] = []
    audited = 0
    for dep in report["dependencies"]:
        if "skip_reason" in dep:
            skipped.append(dep["name"])
            continue
        audited += 1
        for vuln in dep.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            reason = next((allowed[i] for i in ids if i in allowed), None)
            fixed = ", ".join(vuln.get("fix_versions", [])) or "—"
            line = f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})"
            if reason:
                accepted_lines.append(f"{line} — {reason}")
            else:
                unexplained.append(line)
    return unexplained, accepted_lines, skipped, audited


def main() -> int:
    strict = os.environ.get("AUDIT_STRICT", "") == "1"
    service = os.environ.get("AUDIT_SERVICE", "pypi")
    allowed = accepted()
    report = run_pip_audit(service)
    if report is None:
        print("NOT AUDITED: the vulnerability service could not be reached.")
        return 2 if strict else 0
    unexplained, accepted_lines, skipped, audited = evaluate(report, allowed)
    for line in accepted_lines:
        print(f"accepted   {line}")
    for line in unexplained:
        print(f"VULNERABLE {line}")
    print(f"{audited} packages audited against {service}, {len(unexplained)} unexplained vulnerabilities.")
    if skipped:
        print(f"NOT AUDITED ({len(skipped)} packages the service did not know): {', '.join(skipped)}")
    if unexplained:
        return 1
    if skipped and strict:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
