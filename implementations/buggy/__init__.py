"""Known-buggy implementations: each re-creates a real, reported semaphore bug as a minimal
change of a correct implementation, so the harness can prove it still catches that kind of bug.

They are never among the built-in correct implementations; they are named ``buggy-...`` and
resolved only by that name.
"""
