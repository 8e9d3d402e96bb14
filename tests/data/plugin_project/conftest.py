"""Only for semharness's own repository, where this example lives in the test tree
(tests/data/plugin_project) and tests/test_pytest_plugin.py runs a copy of it as a project of
its own: semharness's suite must not collect the example's tests.  A project of yours needs no
conftest.py for the plugin."""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path, config):
    if config.rootpath.resolve() != HERE:
        return True
    return None
