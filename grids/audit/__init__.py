"""The audit log: every change made in /admin/ (grants included), append-only, scoped like all data."""
