"""The 128-bit product of two uint64 in compiled code: its high word is one machine multiply.

numba has no 128-bit integer type; :func:`mulhi64` asks LLVM for the product at 128 bits and keeps its
high 64 (one ``mul`` on x86-64), and the low 64 are the wrapping uint64 product.  Used by the PCG64
random stream (:mod:`engine.metrics.pcg64`) and the shortest float digits (:mod:`engine.store.float_text`).
"""

from __future__ import annotations

import numba
from llvmlite import ir
from numba.extending import intrinsic

__all__ = ["mul128", "mulhi64"]


@intrinsic
def mulhi64(typingctx, a, b):
    """The high 64 bits of the 128-bit product of two uint64 (one machine multiply, as numpy's C)."""
    sig = numba.types.uint64(numba.types.uint64, numba.types.uint64)

    def codegen(context, builder, signature, args):
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))

    return sig, codegen


@numba.njit(cache=True, nogil=True, inline="always")
def mul128(a, b):  # pragma: no cover - compiled
    """The 128-bit product of two uint64 as (high, low) words."""
    return mulhi64(a, b), a * b  # type: ignore[call-arg]
