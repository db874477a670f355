"""Running a sweep's runs through a :class:`concurrent.futures.Executor`.

* :func:`open_executor`: a local :class:`~concurrent.futures.ProcessPoolExecutor` (spawned
  workers whose BLAS thread count is set in their environment before NumPy loads), or
  Dask's distributed scheduler (``Client(ADDRESS).get_executor()``, or a ``LocalCluster``)
  when the optional ``dask`` extra is installed.
* :func:`run_one`: what a worker does for one run: call the experiment's own
  ``main(argv)`` with the run's folder, its output going to ``run.log`` there.
* :func:`execute`: submit the runs (a run that needs another's VAE once that one has
  finished), skip finished runs, resume interrupted ones, keep going past failures, and
  print one line per finished run with the time left.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import importlib
import multiprocessing
import os
import signal
import socket
import time
import traceback
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from refmem.progress import format_seconds
from refmem.sweep.plan import LOG_NAME, Run, finished_results, run_state

__all__ = ["THREAD_VARS", "ExecutorError", "available_cores", "thread_env", "open_executor", "run_one",
           "execute"]

#: environment variables that set the thread count of the BLAS / OpenMP libraries
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")


class ExecutorError(RuntimeError):
    """The executor could not be started (extra missing, scheduler unreachable)."""


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (macOS, Windows)
        return os.cpu_count() or 1


@contextlib.contextmanager
def thread_env(threads: int) -> Iterator[Dict[str, str]]:
    """Set :data:`THREAD_VARS` to ``threads`` in ``os.environ`` for the block (restored after).

    Processes started inside the block inherit the setting, so their BLAS starts with
    ``threads`` threads; the current process's already loaded BLAS is not affected.
    """
    env = {v: str(int(threads)) for v in THREAD_VARS}
    saved = {v: os.environ.get(v) for v in THREAD_VARS}
    os.environ.update(env)
    try:
        yield env
    finally:
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old


def _stop_workers(ex: cf.ProcessPoolExecutor) -> None:
    """Terminate a process pool's workers: the runs they were doing count as interrupted
    (checkpoints are written atomically) and are resumed by the next start of the sweep."""
    stop = getattr(ex, "terminate_workers", None)  # Python >= 3.14
    if stop is not None:
        stop()
        return
    for proc in list((getattr(ex, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.terminate()


def _init_worker(env: Dict[str, str]) -> None:
    os.environ.update(env)  # already inherited; kept for anything the worker starts
    # Ctrl-C in a terminal reaches the whole process group: only the sweep's own process
    # acts on it (it terminates the workers), so no worker is killed halfway through
    # sending a result back, which could leave the pool waiting for the rest of it
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def open_executor(kind: str = "processes", workers: int = 1, threads: int = 1, scheduler: Optional[str] = None,
                  timeout: float = 10.0) -> Iterator[Tuple[cf.Executor, str, int]]:
    """``(executor, description, workers)`` for the block; shut down (pending runs cancelled) after it.

    Parameters
    ----------
    kind : {"processes", "dask"}
    workers : int
        Worker processes (local pool or ``LocalCluster``); ignored with ``scheduler``.
    threads : int
        BLAS threads of each local worker.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``).
    timeout : float
        Seconds to wait for the scheduler.

    Raises
    ------
    ExecutorError
        Dask is not installed, or the scheduler does not answer.
    """
    if kind == "processes":
        with thread_env(threads) as env:
            ex = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_init_worker, initargs=(env,))
            try:
                yield ex, f"{workers} local process{'es' if workers > 1 else ''} x {threads} BLAS thread(s)", workers
            except BaseException:  # Ctrl-C or an error: stop the runs now rather than wait for them
                _stop_workers(ex)
                raise
            finally:
                ex.shutdown(wait=True, cancel_futures=True)
        return
    if kind != "dask":
        raise ValueError(f"executor must be 'processes' or 'dask', got {kind!r}")
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError("--executor dask needs the dask extra: pip install 'refmem[dask]'") from None
    cluster = None
    with thread_env(threads) as env:
        if scheduler:
            try:
                client = Client(scheduler, timeout=timeout)
            except Exception as exc:  # OSError, TimeoutError, ValueError (bad address): all one line
                msg = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler}: {msg}") from None
            n = len(client.scheduler_info().get("workers", {}))
            desc = f"Dask scheduler {scheduler} ({n} workers)"
        else:
            import logging

            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, env=env,
                                   memory_limit=0, dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
            desc, n = f"Dask LocalCluster, {workers} worker(s) x {threads} BLAS thread(s)", workers
    try:
        yield client.get_executor(pure=False), desc, max(1, n)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _error_line(log_text: str) -> Optional[str]:
    """The last line of a run's output that reports an error, if any."""
    for ln in reversed(log_text.splitlines()):
        if "error" in ln.lower():
            return ln.strip()
    return None


def run_one(task: Dict[str, object]) -> Dict[str, object]:
    """Run one experiment run in this process (what a worker executes).

    ``task`` holds ``name``, ``module``, ``argv`` and ``out``. The experiment's
    ``main(argv)`` runs with its output appended to ``out/run.log``; an exception is
    written there with its traceback and does not propagate.

    Returns
    -------
    dict
        ``name``, ``status`` (``"done"`` when a complete ``results.json`` exists
        afterwards, else ``"failed"``), ``rc`` (the experiment's exit status), ``error``
        (one line, or None), ``seconds`` (inside ``main``), ``passed``/``total`` (criteria),
        ``log`` (None when the run's folder cannot be written), ``host``, ``pid``, ``blas_threads``.
    """
    out = str(task["out"])
    log_path = os.path.join(out, LOG_NAME)
    rc, error = None, None
    try:
        os.makedirs(out, exist_ok=True)
        fh = open(log_path, "a")
    except OSError as exc:  # the run cannot even start: no log to point to
        return {"name": task["name"], "status": "failed", "rc": None, "seconds": None, "passed": 0, "total": 0,
                "error": f"cannot write its folder {out}: "
                         + ("a file of that name is in the way" if os.path.isfile(out) else str(exc.strerror or exc)),
                "log": None, **_worker_info()}
    with fh:
        fh.write(f"\n=== refmem sweep: {time.strftime('%Y-%m-%d %H:%M:%S')} on {socket.gethostname()} "
                 f"pid {os.getpid()}: refmem run {task['experiment']} {' '.join(task['argv'])}\n")
        start = fh.tell()
        fh.flush()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
            try:
                rc = importlib.import_module(str(task["module"])).main(list(task["argv"]))
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                traceback.print_exc(file=fh)
                error = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
        seconds = time.perf_counter() - t0
    res = finished_results(out)
    if res is None and error is None:
        with open(log_path) as fh:
            fh.seek(start)
            error = _error_line(fh.read()) or f"exited with status {rc} without writing results.json"
    rows = [] if res is None else res.get("criteria", res.get("effects"))
    return {"name": task["name"], "status": "done" if res is not None else "failed", "rc": rc, "error": error,
            "seconds": seconds, "passed": sum(r.get("passed") is True for r in rows), "total": len(rows),
            "log": log_path, **_worker_info()}


def _worker_info() -> Dict[str, object]:
    """Where a run ran: ``host``, ``pid`` and ``blas_threads`` of the worker."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}


def _task(run: Run, resume: bool, vae_path: Optional[str]) -> Dict[str, object]:
    return {"name": run.name, "experiment": run.experiment, "module": run.module, "out": run.out,
            "argv": run.argv(resume=resume, vae_path=vae_path)}


def _outcome(run: Run, status: str, **extra) -> Dict[str, object]:
    base = {"name": run.name, "status": status, "rc": None, "error": None, "seconds": None, "passed": None,
            "total": None, "log": os.path.join(run.out, LOG_NAME), "action": None}
    base.update(extra)
    return base


def _eta(left: Sequence[Run], times: Mapping[str, List[float]], workers: int) -> float:
    """Seconds until ``left`` are done: each at the mean time of its experiment's finished runs."""
    if not left:
        return 0.0
    everything = [t for ts in times.values() for t in ts]
    if not everything:
        return float("nan")
    overall = sum(everything) / len(everything)
    total = sum(sum(times[r.experiment]) / len(times[r.experiment]) if times.get(r.experiment) else overall
                for r in left)
    return total / max(1, min(workers, len(left)))


def execute(runs: Sequence[Run], executor: cf.Executor, *, workers: int = 1, say: Callable[[str], None] = print,
            on_update: Optional[Callable[[Dict[str, Dict[str, object]]], None]] = None) -> Dict[str, Dict[str, object]]:
    """Run every unfinished run of ``runs`` on ``executor``; return the outcome of each, by name.

    A finished run is skipped (``status`` ``"skipped"``); an interrupted one is resumed
    with ``--resume`` when its experiment has that flag, else run again
    (``action`` ``"resume"``/``"restart"``/``"new"``). A run that needs another run's
    ``vae.npz`` is submitted once that run is done, and is not run (``"failed"``, with the
    reason) if it failed. At most ``workers`` runs are submitted at a time, so none
    waits in the executor's queue. ``say`` receives one line per finished run with the time left
    (estimated from the mean time of the finished runs of each experiment, spread over
    ``workers``); ``on_update`` the outcomes so far after each.
    """
    by_name = {r.name: r for r in runs}
    outcomes: Dict[str, Dict[str, object]] = {}
    todo: List[Tuple[Run, str]] = []
    for r in runs:
        state = run_state(r)
        if state == "finished":
            outcomes[r.name] = _outcome(r, "skipped", action="finished before")
        else:
            todo.append((r, state))
    waiting = {r.name: state for r, state in todo}
    n_total, n_done, t0 = len(todo), 0, time.perf_counter()
    futures: Dict[cf.Future, Tuple[Run, str]] = {}
    times: Dict[str, List[float]] = {}

    def report(run: Run, out: Dict[str, object]) -> None:
        nonlocal n_done
        n_done += 1
        outcomes[run.name] = out
        el = time.perf_counter() - t0
        if out["seconds"] is not None:
            times.setdefault(run.experiment, []).append(float(out["seconds"]))
        eta = _eta([r for r in by_name.values() if r.name not in outcomes], times, workers)
        what = (f"{out['status']} in {format_seconds(out['seconds'])}" if out["seconds"] is not None
                else out["status"])
        if out["status"] == "done":
            what += f", {out['passed']}/{out['total']} criteria pass"
        else:
            what += f": {out['error']}" + (f" (log: {out['log']})" if out.get("log") else "")
        say(f"[{n_done}/{n_total}] {run.name}: {what}; elapsed {format_seconds(el)}, "
            f"ETA {format_seconds(eta)}")
        if on_update is not None:
            on_update(outcomes)

    def submit_ready() -> None:  # at most `workers` at a time: nothing queued starts after Ctrl-C
        for name in list(waiting):
            if len(futures) >= max(1, workers):
                break
            run = by_name[name]
            vae_path = None
            if run.needs is not None:
                dep = outcomes.get(run.needs)
                if dep is None:
                    continue
                vae_path = os.path.join(by_name[run.needs].out, "vae.npz")
                if dep["status"] == "failed" or not os.path.isfile(vae_path):
                    del waiting[name]
                    why = "failed" if dep["status"] == "failed" else "left no vae.npz"
                    report(run, _outcome(run, "failed", error=f"not run: the run of its VAE, {run.needs}, {why}"))
                    continue
            state = waiting.pop(name)
            action = "new" if state == "new" else ("resume" if run.supports_resume else "restart")
            try:
                fut = executor.submit(run_one, _task(run, action == "resume", vae_path))
            except Exception as exc:  # a broken pool refuses new work
                report(run, _outcome(run, "failed", error=f"not submitted: {type(exc).__name__}: {exc}"))
                continue
            futures[fut] = (run, action)

    submit_ready()
    while futures:
        done, _ = cf.wait(list(futures), return_when=cf.FIRST_COMPLETED)
        for fut in done:
            run, action = futures.pop(fut)
            try:
                out = dict(fut.result())
            except Exception as exc:  # the worker died (killed, out of memory) or the cluster lost it
                msg = (str(exc).strip().splitlines() or [""])[0]
                out = _outcome(run, "failed", error=f"the worker was lost: {type(exc).__name__}: {msg}")
            out["action"] = action
            report(run, out)
        submit_ready()
    return outcomes
