"""Test-suite settings: Hypothesis is derandomized (a fixed seed per test) so that every run
of the suite explores the same examples -- a CI gate must not be flaky."""

from hypothesis import settings

settings.register_profile("semharness", derandomize=True, database=None)
settings.load_profile("semharness")
