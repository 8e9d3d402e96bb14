/*
 * pysem.c -- the Python face of a C implementation.  Compiled together with one implementation
 * file (built-in or a user's) into an extension module named by -DSEMH_MODULE=<name>, with
 * -DSEMH_INTERRUPT_HOOK=semh_py_interrupt_hook so that blocked waits stay interruptible.
 *
 * The non-blocking fast path (an uncontended acquire, any release, available) keeps the GIL:
 * that is what makes a pair cost tens of nanoseconds.  Anything that may block first tries
 * without waiting, then releases the GIL; while blocked, the header's waits come back every
 * SEMH_INTERRUPT_SLICE_NS to run Python's signal handlers here without leaving the wait.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "semharness.h"

#define SEMH_CAT2(a, b) a##b
#define SEMH_CAT(a, b) SEMH_CAT2(a, b)
#define SEMH_STR2(a) #a
#define SEMH_STR(a) SEMH_STR2(a)

#ifndef SEMH_MODULE
#error "compile with -DSEMH_MODULE=<extension module name>"
#endif

/* ---- interruption: the hook the header's waits call between slices ---- */

static _Thread_local PyThreadState *blocked_tstate; /* set while this thread waits */
static _Thread_local int interrupted;               /* a signal handler raised */

int semh_py_interrupt_hook(void);
int semh_py_interrupt_hook(void)
{
    if (interrupted || blocked_tstate == NULL)
        return interrupted;
    PyEval_RestoreThread(blocked_tstate);
    if (PyErr_CheckSignals() < 0)
        interrupted = 1;
    blocked_tstate = PyEval_SaveThread();
    return interrupted;
}

/* ---- argument conversion ---- */

/* n as the implementation sees it; out-of-range values never reach it. */
static int parse_n(PyObject *obj, int32_t *n)
{
    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "n must be an int, not %.100s", Py_TYPE(obj)->tp_name);
        return -1;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow < 0 || (overflow == 0 && v < INT32_MIN)) {
        PyErr_SetString(PyExc_ValueError, "n must be >= 0");
        return -1;
    }
    if (overflow > 0 || v > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "n exceeds the maximum count 2**31 - 1");
        return -1;
    }
    *n = (int32_t)v;
    return 0;
}

/* seconds -> ns: None or negative -> -1 (forever), 0 -> 0, tiny positive -> at least 1 ns. */
static int parse_timeout(PyObject *obj, int64_t *ns)
{
    if (obj == Py_None) {
        *ns = -1;
        return 0;
    }
    if (!PyLong_Check(obj) && !PyFloat_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "timeout must be a number or None, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    double t = PyFloat_AsDouble(obj);
    if (t == -1.0 && PyErr_Occurred())
        return -1;
    if (isnan(t)) {
        PyErr_SetString(PyExc_ValueError, "timeout must not be NaN");
        return -1;
    }
    if (t < 0 || t * 1e9 >= 9.0e18)
        *ns = -1;
    else if (t == 0)
        *ns = 0;
    else
        *ns = t * 1e9 < 1.0 ? 1 : (int64_t)(t * 1e9);
    return 0;
}

/* Maps a negative errno from the implementation to a Python exception; returns NULL. */
static PyObject *raise_errno(int r)
{
    switch (-r) {
    case EINVAL:
        PyErr_SetString(PyExc_ValueError, "n must be >= 0");
        break;
    case EOVERFLOW:
        PyErr_SetString(PyExc_OverflowError, "count would exceed 2**31 - 1");
        break;
    case ENOTSUP:
        PyErr_SetString(PyExc_NotImplementedError,
                        "this implementation cannot take more than one token at a time");
        break;
    default:
        errno = -r;
        PyErr_SetFromErrno(PyExc_OSError);
    }
    return NULL;
}

/* Fast-call argument unpacking for (n=1[, timeout=default]). */
static int unpack_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                       const char *fname, int want_timeout, PyObject **n_obj, PyObject **t_obj)
{
    Py_ssize_t max = want_timeout ? 2 : 1;
    if (nargs > max) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd arguments (%zd given)", fname, max,
                     nargs);
        return -1;
    }
    if (nargs >= 1)
        *n_obj = args[0];
    if (nargs >= 2)
        *t_obj = args[1];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        const char *key = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, i));
        if (key == NULL)
            return -1;
        PyObject **slot = NULL;
        if (strcmp(key, "n") == 0 && nargs < 1)
            slot = n_obj;
        else if (want_timeout && strcmp(key, "timeout") == 0 && nargs < 2)
            slot = t_obj;
        if (slot == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected or repeated argument '%s'",
                         fname, key);
            return -1;
        }
        *slot = args[nargs + i];
    }
    return 0;
}

/* ---- the Semaphore type ---- */

typedef struct {
    PyObject_HEAD
    void *state; /* semh_info.state_size bytes, 64-byte aligned; NULL until initialised */
} SemObject;

static void Sem_dealloc(SemObject *self)
{
    if (self->state) {
        semh_destroy(self->state);
        free(self->state);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Sem_init(SemObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"initial", NULL};
    PyObject *initial_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Semaphore", kwlist, &initial_obj))
        return -1;
    int32_t initial = 0;
    if (initial_obj && parse_n(initial_obj, &initial) < 0) {
        if (PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyErr_SetString(PyExc_ValueError, "initial count must be >= 0");
        }
        return -1;
    }
    if (self->state) {
        PyErr_SetString(PyExc_RuntimeError, "Semaphore is already initialised");
        return -1;
    }
    size_t size = (semh_info.state_size + 63) / 64 * 64;
    void *state = aligned_alloc(64, size ? size : 64);
    if (state == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(state, 0, size ? size : 64);
    int r = semh_init(state, initial);
    if (r < 0) {
        free(state);
        if (r == -EINVAL)
            PyErr_SetString(PyExc_ValueError, "initial count must be >= 0");
        else
            raise_errno(r);
        return -1;
    }
    self->state = state;
    return 0;
}

static int check_ready(SemObject *self)
{
    if (self->state == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Semaphore.__init__ was not called");
        return -1;
    }
    return 0;
}

/*
 * Waits without the GIL.  timeout_ns < -1 means "acquire" (not try_acquire).  Returns 1 acquired,
 * 0 not, < 0 errno; -1000 when a signal handler raised (the exception is set, nothing is held).
 */
#define ACQUIRE_CALL INT64_MIN
#define RAISED (-1000)
static int wait_without_gil(SemObject *self, int32_t n, int64_t timeout_ns)
{
    int r;
    interrupted = 0;
    blocked_tstate = PyEval_SaveThread();
    if (timeout_ns == ACQUIRE_CALL) {
        r = semh_acquire(self->state, n);
        r = r == 0 ? 1 : r == -EINTR ? 0 : r;
    } else {
        r = semh_try_acquire(self->state, n, timeout_ns);
    }
    PyEval_RestoreThread(blocked_tstate);
    blocked_tstate = NULL;
    if (interrupted) {
        interrupted = 0;
        if (r == 1)
            semh_release(self->state, n); /* the tokens came with the interrupt: give back */
        return RAISED;
    }
    return r;
}

static PyObject *Sem_acquire(SemObject *self, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames)
{
    int32_t n = 1;
    if (nargs || kwnames) {
        PyObject *n_obj = NULL, *unused = NULL;
        if (unpack_args(args, nargs, kwnames, "acquire", 0, &n_obj, &unused) < 0)
            return NULL;
        if (n_obj && parse_n(n_obj, &n) < 0)
            return NULL;
    }
    if (check_ready(self) < 0)
        return NULL;
    if (n > 0) {
        int fast = semh_try_acquire(self->state, n, 0);
        if (fast == 1)
            Py_RETURN_NONE;
        if (fast < 0)
            return raise_errno(fast);
    }
    int r = wait_without_gil(self, n, ACQUIRE_CALL);
    if (r == RAISED)
        return NULL;
    if (r < 0)
        return raise_errno(r);
    if (r == 0) {
        PyErr_SetString(PyExc_InterruptedError, "acquire was interrupted");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *Sem_try_acquire(SemObject *self, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames)
{
    int32_t n = 1;
    int64_t timeout_ns = 0;
    if (nargs || kwnames) {
        PyObject *n_obj = NULL, *t_obj = NULL;
        if (unpack_args(args, nargs, kwnames, "try_acquire", 1, &n_obj, &t_obj) < 0)
            return NULL;
        if (n_obj && parse_n(n_obj, &n) < 0)
            return NULL;
        if (t_obj && parse_timeout(t_obj, &timeout_ns) < 0)
            return NULL;
    }
    if (check_ready(self) < 0)
        return NULL;
    int r = semh_try_acquire(self->state, n, 0);
    if (r == 0 && timeout_ns != 0) {
        r = wait_without_gil(self, n, timeout_ns);
        if (r == RAISED)
            return NULL;
    }
    if (r < 0)
        return raise_errno(r);
    return PyBool_FromLong(r);
}

static PyObject *Sem_release(SemObject *self, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames)
{
    int32_t n = 1;
    if (nargs || kwnames) {
        PyObject *n_obj = NULL, *unused = NULL;
        if (unpack_args(args, nargs, kwnames, "release", 0, &n_obj, &unused) < 0)
            return NULL;
        if (n_obj && parse_n(n_obj, &n) < 0)
            return NULL;
    }
    if (check_ready(self) < 0)
        return NULL;
    int r = semh_release(self->state, n);
    if (r < 0)
        return raise_errno(r);
    Py_RETURN_NONE;
}

static PyObject *Sem_available(SemObject *self, PyObject *Py_UNUSED(ignored))
{
    if (check_ready(self) < 0)
        return NULL;
    return PyLong_FromLong(semh_available(self->state));
}

static PyMethodDef Sem_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))Sem_acquire, METH_FASTCALL | METH_KEYWORDS,
     "acquire(n=1): block until n tokens are taken, atomically."},
    {"try_acquire", (PyCFunction)(void (*)(void))Sem_try_acquire, METH_FASTCALL | METH_KEYWORDS,
     "try_acquire(n=1, timeout=0.0) -> bool: 0 no wait, > 0 seconds, None or < 0 forever."},
    {"release", (PyCFunction)(void (*)(void))Sem_release, METH_FASTCALL | METH_KEYWORDS,
     "release(n=1): add n tokens; OverflowError past 2**31 - 1."},
    {"available", (PyCFunction)Sem_available, METH_NOARGS, "available() -> int"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SemType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = SEMH_STR(SEMH_MODULE) ".Semaphore",
    .tp_basicsize = sizeof(SemObject),
    .tp_dealloc = (destructor)Sem_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A C semaphore implementation behind the semharness Python contract.",
    .tp_methods = Sem_methods,
    .tp_init = (initproc)Sem_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = SEMH_STR(SEMH_MODULE),
    .m_doc = "A C semaphore implementation compiled for semharness.",
    .m_size = -1,
};

PyMODINIT_FUNC SEMH_CAT(PyInit_, SEMH_MODULE)(void);
PyMODINIT_FUNC SEMH_CAT(PyInit_, SEMH_MODULE)(void)
{
    if (PyType_Ready(&SemType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    Py_INCREF(&SemType);
    if (PyModule_AddObject(m, "Semaphore", (PyObject *)&SemType) < 0 ||
        PyModule_AddStringConstant(m, "description", semh_info.description) < 0 ||
        PyModule_AddIntConstant(m, "capabilities", (long)semh_info.capabilities) < 0 ||
        PyModule_AddIntConstant(m, "state_size", (long)semh_info.state_size) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
