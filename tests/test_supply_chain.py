"""`make audit`: a known vulnerability fails the audit unless it is accepted with a reason."""

from ops import audit

REPORT = {
    "dependencies": [
        {"name": "django", "version": "5.2.0", "vulns": [
            {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "fix_versions": ["5.2.1"]},
        ]},
        {"name": "celery", "version": "5.7.0", "vulns": []},
        {"name": "whitenoise", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ],
    "fixes": [],
}  # fmt: skip


def test_an_unexplained_vulnerability_fails_the_audit():
    unexplained, accepted, skipped, audited = audit.evaluate(REPORT, {})
    assert unexplained == ["django 5.2.0: PYSEC-2099-1 (fixed in 5.2.1)"]
    assert accepted == [] and skipped == ["whitenoise"] and audited == 2


def test_an_accepted_vulnerability_is_reported_with_its_reason():
    unexplained, accepted, _, _ = audit.evaluate(REPORT, {"CVE-2099-0001": "django: not reachable here"})
    assert unexplained == []
    assert accepted == ["django 5.2.0: PYSEC-2099-1 (fixed in 5.2.1) — django: not reachable here"]


def test_the_accepted_list_reads_and_gives_a_reason_for_each_entry():
    assert all(reason.strip() for reason in audit.accepted().values())
