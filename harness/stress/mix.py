"""The operation mix of a stress run: which calls the threads make, with how many tokens, and
with what timeout.

Each thread loops over rounds.  A round draws one call by weight -- ``acquire(n)``,
``try_acquire(n, 0)`` ("try"), ``try_acquire(n, timeout)`` ("timed") or ``available()`` -- and
when the call took n tokens, the thread's next call is ``release(n)``, recorded like any other.
A thread thus holds at most one draw's tokens, and never blocks while holding any: with an
initial count of at least the largest n, some blocked thread can always proceed, so a correct
semaphore never hangs the run (:meth:`Mix.default_initial`).

On the command line a mix is written ``acquire=4,try=2,timed=1,available=1,n=1,timeout=0.001``
(:meth:`Mix.parse`, :meth:`Mix.describe`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..contract import MAX_COUNT

#: The largest weight of one kind of call (the driver draws with 32-bit integer arithmetic).
MAX_WEIGHT = 1_000_000
#: The most values an explicit n distribution may list.
MAX_N_VALUES = 65_536
#: The longest timeout a timed try may have, in seconds (a day: anything longer is a mistake).
MAX_TIMEOUT = 86_400.0

_WEIGHT_KEYS = ("acquire", "try", "timed", "available")
_KEYS = (*_WEIGHT_KEYS, "n", "timeout")
_FOREVER = ("forever", "none")
_UNITS = (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("s", 1.0))


@dataclass(frozen=True)
class Mix:
    """Weights of the four drawn calls, the distribution of n, and the timed tries' timeout.

    ``n_max``: an int K draws n uniformly from 1..K; a tuple draws uniformly from its values
    (repeat a value to weight it; 0 is allowed and tests the n == 0 paths).  ``timeout``: the
    timed try's timeout in seconds, or None to make it wait for ever (``try_acquire(n, -1)``).
    Weights are whole numbers; at least one must be positive.
    """

    acquire: int = 4
    try_: int = 2
    timed: int = 1
    available: int = 1
    n_max: int | tuple[int, ...] = 1
    timeout: float | None = 0.001
    _values: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for key, value in zip(_WEIGHT_KEYS, self.weights, strict=True):
            if value.__class__ is bool or not isinstance(value, int):
                raise ValueError(f"the weight of {key} must be an int, not {value!r}")
            if not 0 <= value <= MAX_WEIGHT:
                raise ValueError(f"the weight of {key} must be in 0..{MAX_WEIGHT}, not {value}")
        if not any(self.weights):
            raise ValueError("the mix's weights are all 0: nothing to run")
        object.__setattr__(self, "_values", _check_n(self.n_max))
        if isinstance(self.n_max, list):  # a frozen dataclass must stay hashable
            object.__setattr__(self, "n_max", tuple(self.n_max))
        timeout = self.timeout
        if timeout is not None:
            if timeout.__class__ is bool or not isinstance(timeout, int | float):
                raise ValueError(f"timeout must be seconds (a number) or None, not {timeout!r}")
            if not (0 < timeout <= MAX_TIMEOUT) or round(timeout * 1e9) < 1:
                raise ValueError(
                    f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds, not "
                    f"{timeout!r} (use try= for tries that do not wait, None to wait for ever)"
                )
            object.__setattr__(self, "timeout", float(timeout))

    # ---- what the driver needs ---------------------------------------------------------------

    @property
    def weights(self) -> tuple[int, int, int, int]:
        """(acquire, try, timed, available)."""
        return (self.acquire, self.try_, self.timed, self.available)

    @property
    def n_values(self) -> tuple[int, ...] | None:
        """The explicit values n is drawn from, or None for uniform 1..n_max."""
        return None if isinstance(self.n_max, int) else self._values

    @property
    def largest_n(self) -> int:
        """The largest n a round can draw."""
        return max(self._values) if isinstance(self.n_max, tuple) else self.n_max

    @property
    def timeout_ns(self) -> int:
        """The timed try's timeout in nanoseconds; -1 for wait for ever."""
        return -1 if self.timeout is None else round(self.timeout * 1e9)

    def needs(self, threads: int) -> frozenset[str]:
        """The capabilities (:class:`~semharness.contract.Capabilities` fields) a run of this
        mix on ``threads`` threads needs, for ``capabilities.missing(mix.needs(threads))``.

        Several threads sharing n > 1 need one-step multi-token acquire and release (taken in
        steps, the count passes through values no single call explains); timed tries need
        timeouts, or waiting for ever when their timeout is None.
        """
        needs = set()
        takes = self.acquire or self.try_ or self.timed
        if threads > 1 and takes and self.largest_n > 1:
            needs |= {"multi_acquire", "atomic_release"}
        if self.timed:
            needs.add("timeouts" if self.timeout is not None else "wait_forever")
        return frozenset(needs)

    def default_initial(self) -> int:
        """The initial count that keeps a correct semaphore live and contended: the largest n.

        Every blocked thread holds no tokens (a thread releases what it took before its next
        draw), so when all threads are blocked the count is back at its initial value, which
        satisfies any waiter -- some thread can always go on.  A larger count (threads x
        largest n) would also be live but never makes anyone wait, leaving the blocking and
        wake-up paths untested.
        """
        return self.largest_n

    # ---- text --------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Mix:
        """A mix from its command-line form, e.g. ``acquire=4,try=2,timed=1,available=1,n=2,
        timeout=0.001``.

        Keys: the weights ``acquire``, ``try``, ``timed``, ``available`` (whole numbers); ``n``,
        either K (uniform 1..K) or values separated by ``|`` (``n=1|1|4``; one fixed value as
        ``n=2|``); ``timeout``, seconds or a number with a unit (``1ms``, ``500us``), or
        ``forever``.  Weights left out are 0 when any weight is given, else all keep their
        defaults, as do n and timeout; an empty text is the default mix.  Raises ValueError
        naming the text and what is wrong.
        """
        if not isinstance(text, str):
            raise ValueError(f"a mix is a string, not {text!r}")
        given: dict[str, str] = {}
        for item in text.split(","):
            item = item.strip()
            if not item and not text.strip():
                continue
            key, eq, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if not item or not eq or not key or not value:
                raise ValueError(f"mix {text!r}: {item!r} is not KEY=VALUE")
            if key not in _KEYS:
                raise ValueError(f"mix {text!r}: unknown key {key!r} (known: {', '.join(_KEYS)})")
            if key in given:
                raise ValueError(f"mix {text!r}: {key} is given twice")
            given[key] = value
        kwargs: dict[str, object] = {}
        if any(k in given for k in _WEIGHT_KEYS):
            for key in _WEIGHT_KEYS:
                kwargs["try_" if key == "try" else key] = _parse_weight(text, key, given.get(key))
        if "n" in given:
            kwargs["n_max"] = _parse_n(text, given["n"])
        if "timeout" in given:
            kwargs["timeout"] = _parse_timeout(text, given["timeout"])
        try:
            return cls(**kwargs)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"mix {text!r}: {exc}") from None

    def describe(self) -> str:
        """The command-line form; ``Mix.parse(m.describe()) == m``."""
        if isinstance(self.n_max, int):
            n = str(self.n_max)
        else:  # one fixed value keeps a trailing '|' to tell it from K
            n = "|".join(str(v) for v in self.n_max) + ("|" if len(self.n_max) == 1 else "")
        timeout = "forever" if self.timeout is None else repr(self.timeout)
        return (
            f"acquire={self.acquire},try={self.try_},timed={self.timed},"
            f"available={self.available},n={n},timeout={timeout}"
        )

    def __str__(self) -> str:
        return self.describe()


def _check_n(n_max: object) -> tuple[int, ...]:
    """The values n is drawn from, checked (an int K: 1..K, represented as (K,))."""
    if isinstance(n_max, int) and n_max.__class__ is not bool:
        if not 1 <= n_max <= MAX_COUNT:
            raise ValueError(f"n_max must be in 1..{MAX_COUNT}, not {n_max}")
        return (n_max,)
    if not isinstance(n_max, tuple | list) or not n_max:
        raise ValueError(f"n_max must be an int or a non-empty tuple of ints, not {n_max!r}")
    if len(n_max) > MAX_N_VALUES:
        raise ValueError(f"n_max lists {len(n_max)} values, more than {MAX_N_VALUES}")
    for v in n_max:
        if v.__class__ is bool or not isinstance(v, int) or not 0 <= v <= MAX_COUNT:
            raise ValueError(f"the values of n must be ints in 0..{MAX_COUNT}, not {v!r}")
    return tuple(n_max)


def _parse_weight(text: str, key: str, value: str | None) -> int:
    if value is None:
        return 0
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"mix {text!r}: {key} must be a whole number, not {value!r}")
    return int(value)


def _parse_n(text: str, value: str) -> int | tuple[int, ...]:
    """K, or values separated by '|'; one fixed value is written with a trailing '|' ("2|"),
    which tells it from K = 2 (uniform 1..2)."""
    parts = value.split("|")
    if len(parts) == 2 and parts[1] == "":
        parts = parts[:1]
        listed = True
    else:
        listed = len(parts) > 1
    for part in parts:
        part = part.strip()
        if not (part.isascii() and part.isdigit()):
            raise ValueError(
                f"mix {text!r}: n must be a whole number K (1..K) or values like 1|1|4, "
                f"not {value!r}"
            )
    if not listed:
        return int(parts[0])
    return tuple(int(p) for p in parts)


def _parse_timeout(text: str, value: str) -> float | None:
    if value.lower() in _FOREVER:
        return None
    number, scale = value, 1.0
    for unit, factor in _UNITS:
        if value.endswith(unit):
            number, scale = value[: -len(unit)].strip(), factor
            break
    try:
        seconds = float(number) * scale
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise ValueError(
            f"mix {text!r}: timeout must be seconds (0.001), a number with a unit (1ms, "
            f"500us) or 'forever', not {value!r}"
        )
    return seconds


#: The mix used when none is given.
DEFAULT_MIX = Mix()
