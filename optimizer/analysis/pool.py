"""Worker processes for batches and sweeps: spawned fresh, one compute thread each."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

from optimizer.core.solvers.output import is_verbose, set_verbose

# Read by OpenBLAS, OpenMP and MKL when a process loads them. N processes each starting a
# thread per core oversubscribe the machine: on 2 cores, 2 workers of an annual-plan frontier
# took 16.7 s with the defaults and 6.0 s with one thread each (8.8 s in one process).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def process_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` spawned processes (no forked threads or solver state), each
    limited to one BLAS/OpenMP thread unless the caller's environment says otherwise."""
    unset = [name for name in THREAD_VARIABLES if name not in os.environ]
    os.environ.update(dict.fromkeys(unset, "1"))  # children copy the environment at spawn
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=set_verbose,  # --verbose reaches the workers' solver logs too
            initargs=(is_verbose(),),
        ) as pool:
            yield pool
    finally:
        for name in unset:
            os.environ.pop(name, None)
