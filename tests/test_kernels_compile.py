"""The kernels compile for an H100 (sm_90) even on a machine without a GPU.

The interpreter runs the kernels' Python and so checks their arithmetic, but not what only the compiler checks
(types, layouts, shared memory). Triton's wheel ships ptxas, so a child process with TRITON_INTERPRET=0 can
compile every kernel at the production shape (Qwen2.5-VL-7B: head dim 128, group 7 → 16-row tiles, bf16) down to
a cubin without a device.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, os
    os.environ["TRITON_INTERPRET"] = "0"
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from reelmark.core.kernels import triton_kernels as k

    TARGET = GPUTarget("cuda", 90, 32)
    BF, F32, I32 = "*bf16", "*fp32", "i32"

    def signature(names, pointers, constexprs):
        sig = {name: pointers.get(name, I32) for name in names}
        sig.update({name: "constexpr" for name in constexprs})
        return sig

    def build(fn, pointers, scalars, constexprs, **options):
        names = [name for name in fn.arg_names if name not in constexprs]
        sig = signature(names, pointers, constexprs)
        sig.update(scalars)
        compiled = triton.compile(ASTSource(fn=fn, signature=sig, constexprs=constexprs), target=TARGET, options=options)
        return {"cubin_bytes": len(compiled.asm["cubin"]), "shared": compiled.metadata.shared}

    results = {
        "dense": build(
            k._dense_split_kernel, {"Q": BF, "K": BF, "V": BF, "O_part": F32, "LSE_part": F32}, {"qk_scale": "fp32"},
            {"D": 128, "G_PAD": 16, "BLOCK_N": 64, "UPCAST": False},
        ),
        "sparse": build(
            k._sparse_split_kernel,
            {"Q": BF, "K": BF, "V": BF, "PK": BF, "PV": BF, "SEL_IDX": "*i32", "SEL_FLAG": "*i8", "O_part": F32,
             "LSE_part": F32},
            {"qk_scale": "fp32", "pooled_bias": "fp32"},
            {"D": 128, "G_PAD": 16, "CHUNK": 64, "BLOCK_P": 32, "UPCAST": False},
        ),
        "select": build(
            k._select_kernel, {"Q": BF, "PK": BF, "KEYS": "*i32", "SEL_IDX": "*i32", "SEL_FLAG": "*i8"},
            {"qk_scale": "fp32"}, {"D": 128, "G_PAD": 16, "BLOCK_C": 256, "BLOCK_ALL": 4096, "UPCAST": False},
            num_warps=8,
        ),
        "reduce": build(
            k._reduce_kernel, {"O_part": F32, "LSE_part": F32, "OUT": BF}, {},
            {"D": 128, "G_PAD": 16, "S_PAD": 128, "BLOCK_S": 16},
        ),
    }
    print(json.dumps(results))
    """
)


def test_every_kernel_compiles_for_sm90() -> None:
    env = {**os.environ, "TRITON_INTERPRET": "0"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=240, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    compiled = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(compiled) == {"dense", "sparse", "select", "reduce"}
    for name, facts in compiled.items():
        assert facts["cubin_bytes"] > 0, name
        assert facts["shared"] <= 227 * 1024, f"{name} needs {facts['shared']} bytes of shared memory"
