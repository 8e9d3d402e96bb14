"""semharness: model checking and stress testing for semaphore implementations.

The public API: the implementation contract (:class:`SemaphoreLike`, :class:`Capabilities`),
the registry (:func:`resolve`, :func:`builtins`), and the Qt-style conveniences
(:class:`Releaser`, :func:`try_acquire_for`, :func:`try_acquire_until`).
"""

from .contract import MAX_COUNT, Capabilities, SemaphoreLike
from .errors import UsageError
from .registry import Implementation, builtins, resolve

__all__ = [
    "MAX_COUNT",
    "Capabilities",
    "Implementation",
    "SemaphoreLike",
    "UsageError",
    "builtins",
    "resolve",
]
__version__ = "0.1.0"
