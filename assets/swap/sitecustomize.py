# Forkcast start-up hook, written next to forkcast_swap.py by `forkcast experiment` (see
# the docstring of forkcast_swap.py; the source of truth is assets/swap/).
import os as _os
import sys as _sys

try:
    import forkcast_swap as _forkcast_swap
    _forkcast_swap.install()
except Exception as _error:
    _sys.stderr.write("forkcast: executor swap failed: %r\n" % (_error,))


def _forkcast_chain():
    # Run the sitecustomize this one shadows, if there is one further down sys.path.
    import importlib.machinery
    import importlib.util
    here = _os.path.dirname(_os.path.abspath(__file__))
    rest = [p for p in _sys.path if _os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


try:
    _forkcast_chain()
except Exception as _error:
    _sys.stderr.write("forkcast: the original sitecustomize failed: %r\n" % (_error,))
