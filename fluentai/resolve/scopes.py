"""Compile-time scopes: where each variable lives at run time.

A `Frame` is one run-time environment list (a function call, the module's top level, or the
body of a loop whose variables a closure captures, which gets a fresh list per iteration so
each closure keeps its own binding). A `Block` maps names to slots of a frame. Names found
in no block are module globals, looked up by name when reached.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class Frame:
    parent: Frame | None
    function: object  # identity of the function (or module) this frame belongs to
    size: int = 1  # slot 0 holds the parent environment

    def new_slot(self) -> int:
        self.size += 1
        return self.size - 1


@dataclass(eq=False)
class Binding:
    frame: Frame
    slot: int
    const: bool
    block: Block


@dataclass(eq=False)
class Block:
    parent: Block | None
    frame: Frame
    names: dict[str, Binding] = field(default_factory=dict)
    # Set when a nested function refers to a name declared here (see Compiler.loop_body).
    captured: bool = False
    is_module_top: bool = False

    def declare(self, name: str, const: bool = False) -> Binding:
        binding = Binding(self.frame, self.frame.new_slot(), const, self)
        self.names[name] = binding
        return binding

    def resolve(self, name: str, current: Frame) -> tuple[Binding, int] | None:
        """The binding of `name` and how many frames up it lives, or None for a global."""
        block: Block | None = self
        while block is not None:
            binding = block.names.get(name)
            if binding is not None:
                if binding.frame.function is not current.function:
                    binding.block.captured = True
                return binding, _distance(current, binding.frame)
            block = block.parent
        return None


def _distance(current: Frame, target: Frame) -> int:
    depth = 0
    frame: Frame | None = current
    while frame is not None and frame is not target:
        frame = frame.parent
        depth += 1
    if frame is None:
        raise AssertionError("binding frame is not an ancestor of the current frame")
    return depth
