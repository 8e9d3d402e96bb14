"""The capability bits of ``semharness.h`` (SEMH_CAP_*), as Python sees them."""

CAP_MULTI_ACQUIRE = 0x01
CAP_ATOMIC_RELEASE = 0x02
CAP_TIMEOUTS = 0x04
CAP_MODEL = 0x08
