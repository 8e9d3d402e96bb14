"""The model checker: semaphore implementations run under a deterministic scheduler.

A run is (implementation, program, config, schedule spec) and is exactly reproducible.  The C
executor (:mod:`.cexec`) runs a C implementation compiled against the model backend of the
header; the Python executor (:mod:`.pyexec`) runs a Python implementation cooperatively, with
the ``threading`` primitives and the clock replaced.  Both answer to :mod:`.core`'s types;
strategies (:mod:`.strategies`) decide the choices, the runner (:mod:`.runner`) checks each
run's history and minimises failures.
"""
