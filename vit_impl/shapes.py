"""Tensor shapes step by step: run a model on an example input and record every step.

A step is either a layer (a leaf module such as `patch_embed.proj` or `blocks.0.attn.qkv`,
seen through forward hooks) or a tensor operation written in a module's `forward`
(`flatten`, `cat`, `+ pos_embed`, `x[:, 0]`..., seen through a TorchFunctionMode), so the
reader can follow every change of shape, labelled with the paper's equation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from vit_impl.model import DropPath


@dataclass(frozen=True)
class ShapeStep:
    """One step of the forward pass. `repeat` > 1: the step runs that many times (once per block)."""

    module: str  # "patch_embed.proj", "blocks.0.attn.qkv", or an operation "blocks.0: x + attn"
    eq: str  # "Eq.1".."Eq.4", "" for what no equation covers (the head)
    input_shape: tuple
    output_shape: tuple
    repeat: int = 1

    def to_json(self) -> dict:
        return {
            "module": self.module,
            "eq": self.eq,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
        }


# Layers that hand their input on unchanged in eval mode: not a step worth a row.
_PASS_THROUGH = (nn.Dropout, nn.Identity, DropPath)

# Tensor operations that are steps when a module's forward calls them directly.
_METHODS = {"flatten", "transpose", "reshape", "view", "permute", "expand", "unbind", "mean", "softmax"}
_OPERATORS = {"add": "+", "mul": "*", "matmul": "@"}  # what `a + b`, `a * b`, `a @ b` call
_RECORDED = _METHODS | set(_OPERATORS) | {"cat", "__getitem__", "scaled_dot_product_attention", "roll", "pad"}

# "blocks.3" (ViT) or "layers.2.blocks.3" (Swin's stages): the block list and the block's index.
_BLOCK = re.compile(r"^((?:[\w.]+\.)?blocks)\.(\d+)(?=[.:]|$)")


def _shape(value) -> tuple:
    if isinstance(value, (tuple, list)):  # unbind: every piece has the same shape
        value = value[0]
    return tuple(value.shape)


def _index(item) -> str:
    if isinstance(item, tuple):
        return ", ".join(_index(i) for i in item)
    if isinstance(item, slice):
        start = "" if item.start is None else item.start
        stop = "" if item.stop is None else item.stop
        return f"{start}:{stop}" if item.step is None else f"{start}:{stop}:{item.step}"
    return repr(item)


def _eq_of_layer(path: str) -> str:
    parts = set(path.split("."))
    if "patch_embed" in parts:
        return "Eq.1"
    if parts & {"norm1", "attn"}:
        return "Eq.2"
    if parts & {"norm2", "mlp"}:
        return "Eq.3"
    if path.split(".")[0] in ("norm", "fc_norm"):
        return "Eq.4"
    return ""


def _eq_of_operation(owner: str, steps: list[ShapeStep]) -> str:
    """An operation belongs to the equation of the step before it; at the top level, before the
    blocks that is Eq.1 (class token, position embedding), after them Eq.4 (pooling)."""
    if owner:
        return steps[-1].eq if steps else _eq_of_layer(owner)
    return "Eq.4" if any(s.eq in ("Eq.2", "Eq.3") for s in steps) else "Eq.1"


@dataclass(frozen=True)
class Labels:
    """How a paper labels the steps of its model with its equations ("" where none covers a step)."""

    layer: Callable[[str], str]  # a layer's equation, by its path ("blocks.0.attn.qkv")
    operation: Callable[[str, list[ShapeStep]], str]  # an operation's, by the path of the module running it ("" at
    # the top level) and the steps so far


VIT_LABELS = Labels(layer=_eq_of_layer, operation=_eq_of_operation)


class _Tracer(TorchFunctionMode):
    """Records layers (through hooks) and the tensor operations of non-leaf forwards, in order."""

    def __init__(self, model: nn.Module, labels: Labels = VIT_LABELS):
        super().__init__()
        self.labels = labels
        self.steps: list[ShapeStep] = []
        self.stack: list[tuple[str, nn.Module]] = []
        # id(tensor) -> (path, "value" for a parameter or "call" for a module's output, tensor);
        # the tensor is kept so that its id is not reused while tracing.
        self.names: dict[int, tuple[str, str, torch.Tensor]] = {
            id(p): (n, "value", p) for n, p in model.named_parameters()
        }
        self.handles = []
        for name, module in model.named_modules():
            self.handles.append(module.register_forward_pre_hook(self._enter(name)))
            self.handles.append(module.register_forward_hook(self._leave(name)))

    def close(self):
        for handle in self.handles:
            handle.remove()

    def _enter(self, name):
        def hook(module, args):
            self.stack.append((name, module))

        return hook

    def _leave(self, name):
        def hook(module, args, output):
            self.stack.pop()
            if not isinstance(output, torch.Tensor) or not args or not isinstance(args[0], torch.Tensor):
                return
            if isinstance(module, _PASS_THROUGH):
                self.names[id(output)] = self.names.get(id(args[0]), (name, "call", output))
                return
            self.names[id(output)] = (name, "call", output)
            if not any(True for _ in module.children()):
                self._add(name, self.labels.layer(name), _shape(args[0]), _shape(output))

        return hook

    def _add(self, label: str, eq: str, shape_in: tuple, shape_out: tuple):
        self.steps.append(ShapeStep(label, eq, shape_in, shape_out))

    def _name(self, tensor, owner: str) -> str:
        """A tensor as the owner's forward reads it: a parameter, `child(...)` for a child's output, or x."""
        path, kind, _ = self.names.get(id(tensor), ("", "", None))
        if not path or (owner and not path.startswith(owner + ".")):
            return "x"
        relative = path[len(owner) + 1 :] if owner else path
        return relative if kind == "value" else f"{relative}(...)"

    def _describe(self, name: str, args, kwargs, owner: str, result) -> str:
        def arg(a):
            if isinstance(a, torch.Tensor):
                return self._name(a, owner)
            return f"{a:.4g}" if isinstance(a, float) else repr(a)

        extra = [arg(a) for a in args[1:]] + [f"{k}={v!r}" for k, v in kwargs.items()]
        if name == "cat":
            return f"cat([{', '.join(arg(t) for t in args[0])}], {', '.join(extra) or 'dim=0'})"
        if name == "unbind" and len(result) == 3:
            return f"{arg(args[0])}.unbind({', '.join(extra)}) -> q, k, v"
        if name == "scaled_dot_product_attention":
            return "scaled_dot_product_attention(q, k, v)"
        if name == "__getitem__":
            index = arg(args[1]) if isinstance(args[1], torch.Tensor) else _index(args[1])
            return f"{arg(args[0])}[{index}]"
        if name in _OPERATORS:
            return f"{arg(args[0])} {_OPERATORS[name]} {arg(args[1])}"
        return f"{arg(args[0])}.{name}({', '.join(extra)})"

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if name not in _RECORDED or not self.stack:
            return result
        owner, module = self.stack[-1]
        if not any(True for _ in module.children()):
            return result  # inside a layer (F.linear in nn.Linear...): the layer is the step
        # cat: the input worth showing is the big one, (2, 196, 768) rather than the class token
        first = max(args[0], key=torch.Tensor.numel) if name == "cat" else args[0]
        if not isinstance(first, torch.Tensor):
            return result
        if name == "expand":  # a broadcast view of the same tensor: keep its name
            self.names[id(result)] = (*self.names.get(id(first), ("", ""))[:2], result)
        text = self._describe(name, args, kwargs, owner, result)
        if owner:
            text = f"{owner}: {text}"
        self._add(text, self.labels.operation(owner, self.steps), _shape(first), _shape(result))
        return result


def trace(model: nn.Module, x: torch.Tensor, labels: Labels = VIT_LABELS) -> list[ShapeStep]:
    """Run `model` on `x` in eval mode and return its steps in order, labelled by `labels` (ViT's by default)."""
    was_training = model.training
    tracer = _Tracer(model, labels)
    try:
        model.eval()
        with torch.no_grad(), tracer:
            model(x)
    finally:
        tracer.close()
        model.train(was_training)
    return tracer.steps


def trace_model(name: str, batch: int = 2, img_size: int | None = None) -> list[ShapeStep]:
    """The steps of a named vit_impl model on a (batch, C, S, S) input, every block included."""
    from vit_impl.configs import create_model

    return trace_named(create_model, name, batch, img_size)


def trace_named(create_model, name: str, batch: int = 2, img_size: int | None = None,
                labels: Labels = VIT_LABELS) -> list[ShapeStep]:
    """The steps of `create_model(name)` (a model with a `patch_embed`) on a (batch, C, S, S) input.

    The model is built on the meta device: shapes without weights or arithmetic, so even
    ViT-H traces at once.
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    overrides = {} if img_size is None else {"img_size": img_size}
    with torch.device("meta"):
        model = create_model(name, **overrides)
        x = torch.empty(batch, model.patch_embed.in_chans, *model.patch_embed.img_size)
    return trace(model, x, labels)


def trace_equation(eq, labels: Labels = VIT_LABELS) -> list[ShapeStep]:
    """The steps of one registry equation's module on its example input, all labelled `eq.id`."""
    module, x = eq.build()
    return [ShapeStep(s.module, eq.id, s.input_shape, s.output_shape) for s in trace(module, x, labels)]


def collapse_blocks(steps: list[ShapeStep]) -> list[ShapeStep]:
    """Show each list of repeated blocks once: L blocks with the same shapes as blocks.0 with repeat=L.

    Blocks that alternate (Swin's W-MSA and SW-MSA blocks) are shown as their first period,
    blocks.0 and blocks.1, with repeat = L / 2; a list with no repetition is left as it is.
    """
    blocks: dict[str, dict[int, list[tuple]]] = {}  # "layers.2.blocks" -> block index -> its steps
    for s in steps:
        match = _BLOCK.match(s.module)
        if match:
            rest = s.module[match.end() :]
            blocks.setdefault(match.group(1), {}).setdefault(int(match.group(2)), []).append(
                (rest, s.eq, s.input_shape, s.output_shape)
            )
    period: dict[str, int] = {}
    for name, by_index in blocks.items():
        n = len(by_index)
        period[name] = next(
            p for p in range(1, n + 1) if n % p == 0 and all(by_index[i] == by_index[i % p] for i in range(n))
        )
    out = []
    for s in steps:
        match = _BLOCK.match(s.module)
        if not match:
            out.append(s)
            continue
        name, n = match.group(1), len(blocks[match.group(1)])
        if int(match.group(2)) < period[name]:
            out.append(replace(s, repeat=n // period[name]))
    return out


# The names a paper registry's shape tracer has (see PaperRegistry.shapes_module).
collapse = collapse_blocks


def png(steps: list[ShapeStep], title: str = "") -> bytes:
    from vit_impl.diagram import png as draw_png

    return draw_png(steps, title)


def mermaid(steps: list[ShapeStep]) -> str:
    from vit_impl.diagram import mermaid as flowchart

    return flowchart(steps)
