"""Forkcast executor swap.

`forkcast experiment` writes this file and sitecustomize.py into a hook folder it puts first
on PYTHONPATH (PythonSwapHook in Sources/ForkcastExperiment/Strategies.swift). The source
of truth is assets/swap/; scripts/gen-assets.py embeds it into the binary
(Sources/ForkcastExperiment/PythonSwapSources.swift). Tests: assets/swap/test_forkcast_swap.py.

Replaces concurrent.futures.ThreadPoolExecutor / ProcessPoolExecutor and
multiprocessing.Pool / multiprocessing.pool.ThreadPool with the executor of the strategy
named by FORKCAST_STRATEGY (serial, threads, processes, hybrid, interpreters), with
FORKCAST_WORKERS workers (hybrid: FORKCAST_WORKERS processes × FORKCAST_HYBRID_THREADS
threads). Only executors created by the program's own code in its top-level process are
swapped: calls from the standard library (asyncio's default executor, ...) and from
inside worker processes get the original classes. The program's own code includes its
__main__ module and, for `python -m PACKAGE.MODULE`, that package, even when it is part of
the standard library (`python3 -m compileall`).

A thread pool replaced by processes (or hybrid) starts its workers with fork where the
platform has it: the program chose no start method, and under spawn or forkserver (the
default from CPython 3.14) a script without an `if __name__ == "__main__"` guard would
run again in every worker.
"""
import os
import sys
import threading

STRATEGY = os.environ.get("FORKCAST_STRATEGY", "")
try:
    WORKERS = max(1, int(os.environ.get("FORKCAST_WORKERS", "1")))
except ValueError:
    WORKERS = 1
try:
    HYBRID_THREADS = max(1, int(os.environ.get("FORKCAST_HYBRID_THREADS", "4")))
except ValueError:
    HYBRID_THREADS = 4
REPORT = os.environ.get("FORKCAST_SWAP_REPORT", "")
_STDLIB = os.path.dirname(os.__file__) + os.sep
_installed = False


def _note(requested, replacement, workers):
    """Appends one line to the swap report so Forkcast can tell the swap happened."""
    if not REPORT:
        return
    line = '{"pid": %d, "requested": "%s", "replacement": "%s", "workers": %d}\n' % (
        os.getpid(), requested, replacement, workers)
    try:
        fd = os.open(REPORT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def _main_package():
    """The top-level package of the module run with -m (None for a script)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None) if spec is not None else None
    return name.split(".")[0] if name else None


def _is_program_code(frame):
    """True for the program's __main__ module and the package it was run from with -m."""
    name = frame.f_globals.get("__name__", "") if frame is not None else ""
    if name == "__main__":
        return True
    package = _main_package()
    return bool(package) and (name == package or name.startswith(package + "."))


def _should_swap(depth):
    """True for a call from the program's own code in its top-level process."""
    try:
        import multiprocessing
        if multiprocessing.parent_process() is not None:
            return False
    except Exception:
        pass
    if threading.current_thread().name.startswith("forkcast-"):
        return False
    try:
        frame = sys._getframe(depth + 1)
        while frame is not None and os.sep + "multiprocessing" + os.sep + "dummy" + os.sep in frame.f_code.co_filename:
            frame = frame.f_back
        filename = frame.f_code.co_filename if frame is not None else ""
    except ValueError:
        return True
    if _is_program_code(frame):
        return True
    return not (filename.startswith(_STDLIB) and "site-packages" not in filename)


def _fork_context(mp_context):
    """The context for processes replacing a pool the program did not give one: fork where
    available (see the module's docstring), else the default."""
    if mp_context is not None:
        return mp_context
    import multiprocessing
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


def _interpreter_pool(workers, initializer, initargs):
    """CPython 3.14+'s InterpreterPoolExecutor; a clear error on older Pythons."""
    cls = getattr(_cf, "InterpreterPoolExecutor", None)
    if cls is None:
        raise RuntimeError("forkcast: the interpreters strategy needs CPython 3.14+ (concurrent.futures.InterpreterPoolExecutor); "
                           "this is %d.%d" % sys.version_info[:2])
    return cls(max_workers=workers, initializer=initializer, initargs=initargs)


# ---- serial: an executor that runs each call in the calling thread -------------------
import concurrent.futures as _cf
import concurrent.futures.thread as _cft
import concurrent.futures.process as _cfp

_ThreadPoolExecutor = _cft.ThreadPoolExecutor
_ProcessPoolExecutor = _cfp.ProcessPoolExecutor


class SerialExecutor(_cf.Executor):
    """Runs every submitted call at once, in the calling thread."""

    def __init__(self, initializer=None, initargs=()):
        self._shutdown = False
        if initializer is not None:
            initializer(*initargs)

    def submit(self, fn, /, *args, **kwargs):
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future = _cf.Future()
        try:
            result = fn(*args, **kwargs)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:
            future.set_exception(error)
        else:
            future.set_result(result)
        return future

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._shutdown = True


# ---- hybrid: processes, each running a small thread pool ------------------------------
def _hybrid_worker(tasks, results, nthreads, initializer, initargs):
    import pickle
    threading.current_thread().name = "forkcast-hybrid-main"
    if initializer is not None:
        initializer(*initargs)

    def loop():
        while True:
            item = tasks.get()
            if item is None:
                return
            task_id, fn, args, kwargs = item
            try:
                reply = (task_id, True, fn(*args, **kwargs))
            except BaseException as error:
                reply = (task_id, False, error)
            try:
                data = pickle.dumps(reply)
            except Exception as error:
                data = pickle.dumps((task_id, False, RuntimeError(
                    "forkcast hybrid: result could not be pickled: %r" % (error,))))
            results.put(data)

    threads = [threading.Thread(target=loop, name="forkcast-hybrid-%d" % i) for i in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class HybridExecutor(_cf.Executor):
    """`processes` worker processes, each running `threads` threads that take calls."""

    def __init__(self, processes, threads, mp_context=None, initializer=None, initargs=()):
        import multiprocessing
        import queue
        ctx = mp_context or multiprocessing.get_context()
        self._tasks = ctx.SimpleQueue()
        self._results = ctx.SimpleQueue()
        self._futures = {}
        self._lock = threading.Lock()
        self._next_id = 0
        self._shutdown = False
        self._nthreads = processes * threads
        self._procs = [ctx.Process(target=_hybrid_worker, name="forkcast-hybrid-%d" % i, daemon=True,
                                   args=(self._tasks, self._results, threads, initializer, initargs))
                       for i in range(processes)]
        for p in self._procs:
            p.start()
        self._outbox = queue.SimpleQueue()
        self._feeder = threading.Thread(target=self._feed, name="forkcast-hybrid-feeder", daemon=True)
        self._collector = threading.Thread(target=self._collect, name="forkcast-hybrid-collector", daemon=True)
        self._feeder.start()
        self._collector.start()

    def _feed(self):
        while True:
            item = self._outbox.get()
            if item is None:
                for _ in range(self._nthreads):
                    self._tasks.put(None)
                return
            try:
                self._tasks.put(item)
            except Exception as error:
                self._resolve(item[0], False, error)

    def _resolve(self, task_id, ok, value):
        with self._lock:
            future = self._futures.pop(task_id, None)
        if future is None:
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def _collect(self):
        import pickle
        reader = self._results._reader
        while True:
            if reader.poll(0.2):
                data = self._results.get()
                if data is None:
                    return
                task_id, ok, value = pickle.loads(data)
                self._resolve(task_id, ok, value)
                continue
            dead = [p for p in self._procs if p.exitcode not in (None, 0)]
            if dead:
                with self._lock:
                    pending, self._futures = self._futures, {}
                for future in pending.values():
                    future.set_exception(_cfp.BrokenProcessPool(
                        "a hybrid worker process died (exit code %s)" % dead[0].exitcode))
                if self._shutdown:
                    return

    def submit(self, fn, /, *args, **kwargs):
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            task_id = self._next_id
            self._next_id += 1
            future = _cf.Future()
            self._futures[task_id] = future
        future.set_running_or_notify_cancel()
        self._outbox.put((task_id, fn, args, kwargs))
        return future

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
        self._outbox.put(None)
        if wait:
            self._feeder.join()
            for p in self._procs:
                p.join()
            self._results.put(None)
            self._collector.join()


# ---- the Pool API over any executor (serial and hybrid pools) -------------------------
class _AsyncResult:
    def __init__(self, futures, combine, callback=None, error_callback=None):
        self._futures = futures
        self._combine = combine
        self._done = threading.Event()
        self._value = None
        self._error = None
        if not futures:
            self._finish(callback, error_callback)
        else:
            threading.Thread(target=self._wait, args=(callback, error_callback), daemon=True,
                             name="forkcast-asyncresult").start()

    def _wait(self, callback, error_callback):
        _cf.wait(self._futures)
        self._finish(callback, error_callback)

    def _finish(self, callback, error_callback):
        for f in self._futures:
            if f.exception() is not None:
                self._error = f.exception()
                break
        if self._error is None:
            self._value = self._combine([f.result() for f in self._futures])
        self._done.set()
        if self._error is None and callback is not None:
            callback(self._value)
        if self._error is not None and error_callback is not None:
            error_callback(self._error)

    def ready(self):
        return self._done.is_set()

    def successful(self):
        if not self.ready():
            raise ValueError("result is not ready")
        return self._error is None

    def wait(self, timeout=None):
        self._done.wait(timeout)

    def get(self, timeout=None):
        import multiprocessing
        if not self._done.wait(timeout):
            raise multiprocessing.TimeoutError
        if self._error is not None:
            raise self._error
        return self._value


def _star(fn, args):
    return fn(*args)


class ExecutorPool:
    """multiprocessing.Pool's API on top of a concurrent.futures executor."""

    def __init__(self, executor):
        self._executor = executor
        self._closed = False

    def _submit(self, fn, args=(), kwds=None):
        if self._closed:
            raise ValueError("Pool not running")
        return self._executor.submit(fn, *args, **(kwds or {}))

    def apply(self, func, args=(), kwds={}):
        return self._submit(func, args, kwds).result()

    def apply_async(self, func, args=(), kwds={}, callback=None, error_callback=None):
        return _AsyncResult([self._submit(func, args, kwds)], lambda r: r[0], callback, error_callback)

    def map(self, func, iterable, chunksize=None):
        return [f.result() for f in [self._submit(func, (x,)) for x in iterable]]

    def starmap(self, func, iterable, chunksize=None):
        return [f.result() for f in [self._submit(_star, (func, tuple(x))) for x in iterable]]

    def map_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        return _AsyncResult([self._submit(func, (x,)) for x in iterable], list, callback, error_callback)

    def starmap_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        return _AsyncResult([self._submit(_star, (func, tuple(x))) for x in iterable], list,
                            callback, error_callback)

    def imap(self, func, iterable, chunksize=1):
        futures = [self._submit(func, (x,)) for x in iterable]
        return (f.result() for f in futures)

    def imap_unordered(self, func, iterable, chunksize=1):
        futures = [self._submit(func, (x,)) for x in iterable]
        return (f.result() for f in _cf.as_completed(futures))

    def close(self):
        self._closed = True

    def terminate(self):
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)

    def join(self):
        if not self._closed:
            raise ValueError("Pool is still running")
        self._executor.shutdown(wait=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.terminate()


# ---- the factories that replace the originals ----------------------------------------
def _make_executor(requested, max_workers=None, mp_context=None, initializer=None, initargs=(), **extra):
    workers = WORKERS
    if STRATEGY == "serial":
        _note(requested, "SerialExecutor", 1)
        return SerialExecutor(initializer, initargs)
    if STRATEGY == "threads":
        _note(requested, "ThreadPoolExecutor", workers)
        return _ThreadPoolExecutor(max_workers=workers, initializer=initializer, initargs=initargs,
                                   thread_name_prefix=extra.get("thread_name_prefix", ""))
    if requested == "ThreadPoolExecutor":
        mp_context = _fork_context(mp_context)
    if STRATEGY == "processes":
        _note(requested, "ProcessPoolExecutor", workers)
        kwargs = {}
        if extra.get("max_tasks_per_child") is not None:
            kwargs["max_tasks_per_child"] = extra["max_tasks_per_child"]
        return _ProcessPoolExecutor(max_workers=workers, mp_context=mp_context, initializer=initializer,
                                    initargs=initargs, **kwargs)
    if STRATEGY == "interpreters":
        pool = _interpreter_pool(workers, initializer, initargs)
        _note(requested, "InterpreterPoolExecutor", workers)
        return pool
    _note(requested, "HybridExecutor", workers * HYBRID_THREADS)
    return HybridExecutor(workers, HYBRID_THREADS, mp_context, initializer, initargs)


def ThreadPoolExecutor(max_workers=None, thread_name_prefix="", initializer=None, initargs=()):
    if not _should_swap(1):
        return _ThreadPoolExecutor(max_workers, thread_name_prefix, initializer, initargs)
    return _make_executor("ThreadPoolExecutor", max_workers, None, initializer, initargs,
                          thread_name_prefix=thread_name_prefix)


def ProcessPoolExecutor(max_workers=None, mp_context=None, initializer=None, initargs=(), **kwargs):
    if not _should_swap(1):
        return _ProcessPoolExecutor(max_workers, mp_context, initializer, initargs, **kwargs)
    return _make_executor("ProcessPoolExecutor", max_workers, mp_context, initializer, initargs, **kwargs)


def _make_pool(requested, context, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
    import multiprocessing.pool as mpp
    workers = WORKERS
    if STRATEGY == "serial":
        _note(requested, "SerialPool", 1)
        return ExecutorPool(SerialExecutor(initializer, initargs))
    if STRATEGY == "threads":
        _note(requested, "ThreadPool", workers)
        return _RealThreadPool(workers, initializer, initargs)
    if requested == "ThreadPool":
        context = _fork_context(context)
    if STRATEGY == "processes":
        _note(requested, "Pool", workers)
        return mpp.Pool(workers, initializer, initargs, maxtasksperchild, context=context)
    if STRATEGY == "interpreters":
        pool = ExecutorPool(_interpreter_pool(workers, initializer, initargs))
        _note(requested, "InterpreterPool", workers)
        return pool
    _note(requested, "HybridPool", workers * HYBRID_THREADS)
    return ExecutorPool(HybridExecutor(workers, HYBRID_THREADS, context, initializer, initargs))


_RealThreadPool = None
_RealContextPool = None


def _ThreadPool(processes=None, initializer=None, initargs=()):
    if not _should_swap(1):
        return _RealThreadPool(processes, initializer, initargs)
    return _make_pool("ThreadPool", None, processes, initializer, initargs)


def _context_pool(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None):
    if not _should_swap(1):
        return _RealContextPool(self, processes, initializer, initargs, maxtasksperchild)
    return _make_pool("Pool", self.get_context(), processes, initializer, initargs, maxtasksperchild)


def install():
    """Patches the executors; a no-op without a known FORKCAST_STRATEGY."""
    global _installed, _RealThreadPool, _RealContextPool
    if _installed or STRATEGY not in ("serial", "threads", "processes", "hybrid", "interpreters"):
        return
    try:
        import _interpreters
        if _interpreters.get_current() != _interpreters.get_main():
            return  # a worker subinterpreter: never swap inside it
    except Exception:
        pass
    _installed = True
    _cf.ThreadPoolExecutor = ThreadPoolExecutor
    _cf.ProcessPoolExecutor = ProcessPoolExecutor
    import multiprocessing
    import multiprocessing.context
    import multiprocessing.pool
    _RealThreadPool = multiprocessing.pool.ThreadPool
    _RealContextPool = multiprocessing.context.BaseContext.Pool
    multiprocessing.pool.ThreadPool = _ThreadPool
    multiprocessing.context.BaseContext.Pool = _context_pool
    multiprocessing.Pool = _default_pool


def _default_pool(processes=None, initializer=None, initargs=(), maxtasksperchild=None):
    import multiprocessing.context
    ctx = multiprocessing.context._default_context
    if not _should_swap(1):
        return _RealContextPool(ctx, processes, initializer, initargs, maxtasksperchild)
    return _make_pool("Pool", ctx.get_context(), processes, initializer, initargs, maxtasksperchild)
