"""The app's commands as a mapping that imports a command's module the first time the command
is asked for. `edgeseq predict` then imports predict's module and what it needs, not the
other ten commands' modules and theirs (flops, graph, streaming, compare...), while
`--help`, the "did you mean" hint and code that walks `group.commands` still see every command
in the table's order: click's documented LazyGroup pattern, done on the mapping because typer
builds the group from the commands already registered and reads `commands` directly."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping


class CommandsOnDemand(MutableMapping):
    """name → click command. `modules` (name → module path) says which module registers a
    command; `made` holds the commands already built; `make(name)` builds one once its
    module is imported."""

    def __init__(self, modules: Mapping[str, str], made: Mapping, make: Callable[[str], object]):
        self._modules = modules
        self._made = dict(made)
        self._make = make

    def __getitem__(self, name: str):
        if name not in self._made:
            if name not in self._modules:
                raise KeyError(name)
            importlib.import_module(self._modules[name])
            self._made[name] = self._make(name)
        return self._made[name]

    def __contains__(self, name: object) -> bool:  # without importing (Mapping's would)
        return name in self._modules or name in self._made

    def __iter__(self) -> Iterator[str]:
        yield from self._modules
        yield from (name for name in self._made if name not in self._modules)

    def __len__(self) -> int:
        return len(self._modules.keys() | self._made.keys())

    def __setitem__(self, name: str, command) -> None:
        self._made[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("edgeseq's commands are fixed by the table in edgeseq/cli/__init__.py")
