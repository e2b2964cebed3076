"""Forbidden routines, caught when they are called (loaded by the worker, by path).

An assignment forbids the library routines that are its answer (``torch.optim``,
``torch.nn.functional.conv*``, ``scipy.signal``, ...). Each name is watched two ways, because the
worker cannot tell a module from an attribute without importing it:

* as a module: when ``torch.optim`` is imported, every public function and class defined in it
  (or in its submodules) is wrapped, and so are the C builtins in its namespace;
* as ``parent.attribute`` (the last part may be a glob, ``torch.conv*``): when ``parent`` is
  imported, the matching callables are wrapped.

Modules imported later are patched by a finder on ``sys.meta_path`` right after they execute, so a
``from torch.optim import Adam`` at the top of a submission already gets the wrapper. A wrapper only
records its name and calls through: ``import torch`` for something harmless costs nothing. The
worker reports the names recorded during each call, and the judge gives that call's check status
``forbidden``. A submission that goes out of its way to unwrap them defeats this, as it could any
check in its own process; this is an integrity rule, not the security boundary.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib.abc
import inspect
import sys
import types

used: set[str] = set()
active: set[str] = set()  # the forbidden names of the submission being served
_WRAPPED = "__grader_forbidden__"
_KEYS = "__grader_keys__"
_installed: set[tuple[str, ...]] = set()
_guards: list[Guard] = []  # one per list installed: a fork server serving several assignments has several


def install(names: list[str]) -> None:
    """Watch ``names`` (once per list: the fork server installs a list before it forks, so that its
    children inherit the wrappers instead of building them, about 8 ms for ``torch.optim``)."""
    key = tuple(sorted(names))
    if key not in _installed:
        _installed.add(key)
        Guard(list(names)).install()


def activate(names: list[str]) -> None:
    """Record calls of ``names`` only: wrappers installed for other lists stay quiet."""
    active.clear()
    active.update(names)


def _record(name: str, func, key: str):
    keys = {key}

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not active.isdisjoint(keys):
            used.add(name)
        return func(*args, **kwargs)

    setattr(wrapper, _WRAPPED, name)
    setattr(wrapper, _KEYS, keys)
    return wrapper


def _wrap_class(cls: type, name: str, key: str) -> None:
    if getattr(cls.__init__, _WRAPPED, None):
        getattr(cls.__init__, _KEYS).add(key)
        return
    try:
        cls.__init__ = _record(name, cls.__init__, key)
    except (TypeError, AttributeError):  # a C type that refuses new attributes: wrap its calls instead
        pass


def _wrap_attribute(module: types.ModuleType, attr: str, value, name: str, key: str) -> None:
    if getattr(value, _WRAPPED, None):
        getattr(value, _KEYS).add(key)
        return
    if inspect.isclass(value):
        _wrap_class(value, name, key)
    elif callable(value):
        try:
            setattr(module, attr, _record(name, value, key))
        except (TypeError, AttributeError):
            pass


class Guard(importlib.abc.MetaPathFinder):
    """Wraps what ``names`` name (see the module's docstring); a wrapper records a call when the name
    it was wrapped for is ``active``."""

    def __init__(self, names: list[str]):
        self.modules = {n for n in names if "*" not in n}                 # "torch.optim"
        self.prefixes = tuple(m + "." for m in self.modules)
        self.attributes: dict[str, list[tuple[str, str]]] = {}           # "torch" -> [("conv*", "torch.conv*")]
        for n in names:
            parent, _, last = n.rpartition(".")
            if parent:
                self.attributes.setdefault(parent, []).append((last, n))

    def install(self) -> None:
        _guards.append(self)
        for name, module in list(sys.modules.items()):
            if module is not None and self.watched(name):  # of torch's 1,500 modules, a few
                self.patch(name, module)
        sys.meta_path.insert(0, self)

    def watched(self, fullname: str) -> bool:
        return fullname in self.attributes or fullname in self.modules or fullname.startswith(self.prefixes)

    def patch(self, fullname: str, module: types.ModuleType) -> None:
        for pattern, key in self.attributes.get(fullname, ()):
            for attr, value in list(vars(module).items()):
                if fnmatch.fnmatchcase(attr, pattern) and not isinstance(value, types.ModuleType):
                    _wrap_attribute(module, attr, value, f"{fullname}.{attr}", key)
        root = next((m for m in self.modules if fullname == m or fullname.startswith(m + ".")), None)
        if root is None:
            return
        for attr, value in list(vars(module).items()):
            if attr.startswith("_") or isinstance(value, types.ModuleType):
                continue
            defined_here = (getattr(value, "__module__", None) or "").startswith(root)
            if defined_here or isinstance(value, types.BuiltinFunctionType):
                _wrap_attribute(module, attr, value, f"{fullname}.{attr}", root)

    # ----------------------------------------------------------- patch modules as they are imported

    def find_spec(self, fullname, path, target=None):
        if not self.watched(fullname):
            return None
        for finder in sys.meta_path:
            # not ourselves, nor another list's guard: two guards asking each other would never end (the
            # loader returned patches the module for every guard that watches it)
            if isinstance(finder, Guard) or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PatchAfterExec(spec.loader, fullname)
                return spec
        return None


class _PatchAfterExec(importlib.abc.Loader):
    def __init__(self, loader, fullname: str):
        self.loader, self.fullname = loader, fullname

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        for guard in _guards:
            if guard.watched(self.fullname):
                guard.patch(self.fullname, module)

    def __getattr__(self, name):  # get_resource_reader, is_package, get_source, ...
        return getattr(self.loader, name)
