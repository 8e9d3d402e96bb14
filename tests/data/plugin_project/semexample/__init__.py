"""An example project's semaphores, checked with semharness's pytest plugin."""
