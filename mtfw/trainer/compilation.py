"""``trainer.compile``: the model's parts compiled with ``torch.compile``, in place.

What the loop calls in every step — the input module, the encoder's networks and each task
head — is compiled with ``nn.Module.compile``, which replaces a module's call, not the module:
parameter names, ``state_dict`` (``checkpoint.pt``, ``best.pt``), ``shared_parameters`` and the
encoder's ``shared_output`` stay those of the plain model, so a compiled run's files load into an
uncompiled model and every weighting (several backward passes, representation mode) works
unchanged. Evaluation reuses the compiled input module and encoder networks (one recompile for
no-grad mode and its batch size); the heads' ``evaluate`` stays eager.

Inductor generates C++ on the CPU and needs a C++ compiler; torchrun runs are refused (each rank
would compile its own graphs, and that combination is not tested here). Both are checked before
any data loads.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from mtfw import distributed
from mtfw.errors import ConfigError
from mtfw.trainer.config import TrainerConfig


def cpp_compiler_problem() -> str | None:
    """Why inductor cannot build CPU kernels here (None: it can)."""
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler

        get_cpp_compiler()
    except Exception as err:  # InvalidCxxCompiler, or an inductor that is missing or broken
        from torch._inductor import config

        searched = ", ".join(str(c) for c in config.cpp.cxx if c is not None) or "none"
        return f"no working C++ compiler for inductor (searched: {searched}; {type(err).__name__})"
    return None


def check_compile(trainer: TrainerConfig, device: torch.device | None = None) -> None:
    """Refuse ``trainer.compile=true`` where it cannot work, with what is missing."""
    if not trainer.compile:
        return
    if distributed.launched():
        raise ConfigError(
            "trainer.compile=true is not supported under torchrun: each rank would compile its "
            "own graphs and that combination is untested; drop trainer.compile (or set it to "
            "false) for a distributed run, or compile a single-process run"
        )
    on_cpu = device is None or device.type == "cpu"
    problem = cpp_compiler_problem() if on_cpu else None
    if problem is not None:
        raise ConfigError(
            f"trainer.compile=true needs torch.compile's inductor backend, which on the CPU builds "
            f"C++ kernels, but there is {problem}. Install g++ (or point the CXX environment "
            "variable at a C++ compiler), or set trainer.compile=false (the default)"
        )


def compiled_parts(module: nn.Module) -> Iterator[nn.Module]:
    """The modules that ``module``'s own code calls: its children, containers opened."""
    for child in module.children():
        if isinstance(child, (nn.ModuleList, nn.ModuleDict)):
            yield from compiled_parts(child)
        else:
            yield child


def compile_model(model: nn.Module) -> None:
    """Compile the input module, the encoder's networks (experts, gates, bottoms, columns) and every
    head of a ``MultiTaskModel`` in place. The encoder's own ``forward`` stays eager: the
    ``shared_output`` it keeps is then an ordinary autograd node, whose gradient representation
    mode replaces (inside one compiled graph the heads would reach it by no edge of its own)."""
    # Weightings and the gradient cosines back-propagate a step's graph more than once
    # (retain_graph=True), which buffers donated to the compiled backward would forbid.
    torch._functorch.config.donated_buffer = False
    for part in [model.inputs, *compiled_parts(model.encoder), *model.heads.values()]:
        part.compile()
