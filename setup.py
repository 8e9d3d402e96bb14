"""Builds the C implementations into extension modules, each with the Python frontend.

Every built-in C implementation is compiled with harness/csrc/pysem.c into its own module
``semharness.implementations._<name>``; the flags match semharness.cbuild.C_FLAGS, which
compiles users' C files the same way at run time.  ``semharness._lincheck`` is the
linearizability checker's search (harness/csrc/lincheck.c), with the same flags.
"""

from setuptools import Extension, setup

C_IMPLEMENTATIONS = ["futex64", "futex32", "posix_sem"]
FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2"]


def extension(name: str) -> Extension:
    return Extension(
        f"semharness.implementations._{name}",
        sources=["harness/csrc/pysem.c", f"implementations/c/{name}.c"],
        include_dirs=["harness/csrc"],
        depends=["harness/csrc/semharness.h"],
        define_macros=[
            ("_GNU_SOURCE", "1"),
            ("SEMH_MODULE", f"_{name}"),
            ("SEMH_INTERRUPT_HOOK", "semh_py_interrupt_hook"),
        ],
        extra_compile_args=FLAGS,
        libraries=["m", "pthread"],
    )


LINCHECK = Extension(
    "semharness._lincheck",
    sources=["harness/csrc/lincheck.c"],
    extra_compile_args=FLAGS,
)


setup(ext_modules=[*(extension(name) for name in C_IMPLEMENTATIONS), LINCHECK])
