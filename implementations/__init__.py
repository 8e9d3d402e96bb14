"""Pluggable semaphore implementations: the reference C core and its 32-bit variant, glibc's
sem_t, CPython's semaphores behind adapters, and a textbook Condition-based one.

The C sources live in ``c/`` and are compiled by the package build into extension modules
(``_futex64``, ``_futex32``, ``_posix_sem``); :mod:`semharness.registry` lists them all.
"""
