"""float64 values as the text Python's ``repr`` gives them, compiled: the cells of a CSV file.

``repr`` of a float is the shortest decimal string that reads back as the same number (of those,
the one nearest to it; a tie goes to the even digit), written with an exponent below 1e-4 and from
1e16 on, and with ``.0`` after a whole number.  It costs about 0.45 µs a number (David Gay's
``dtoa``, arbitrary-precision arithmetic), which made most of the time of writing a run's CSV files.
Here the shortest digits come from the Ryū algorithm (Ulf Adams, "Ryū: fast float-to-string
conversion", PLDI 2018; the reference implementation's ``d2s.c`` without 128-bit integers), which
finds them with 64-bit integer arithmetic and two 128-bit tables of powers of five (computed exactly
at import, with Python's integers), and the layout follows ``repr``'s rules.

``tests/unit/test_float_text.py`` compares every cell with ``repr`` on the edges (zeros, the
smallest subnormal, the largest float, the powers of ten and two around the exponent thresholds, the
neighbours of each) and on generated floats and bit patterns across the whole range.
"""

from __future__ import annotations

import numba
import numpy as np

from engine.uint128 import mul128

__all__ = ["WIDEST", "float_cells", "write_float"]

_POW5_INV_BITCOUNT = 125
_POW5_BITCOUNT = 125
_M64 = (1 << 64) - 1
#: Bytes enough for any cell: a sign, 17 digits, a point and an exponent such as ``e-308``, or ``-0.000``
#: and 17 digits.
WIDEST = 32


def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Ryū's ``DOUBLE_POW5_INV_SPLIT`` (floor(2**j / 5**i) + 1, j = bits(5**i) - 1 + 125) and
    ``DOUBLE_POW5_SPLIT`` (the 125 leading bits of 5**i), each entry as (low, high) 64-bit words."""
    inverse = np.empty((342, 2), dtype=np.uint64)
    power = np.empty((326, 2), dtype=np.uint64)
    for i in range(342):
        p = 5**i
        value = (1 << (p.bit_length() - 1 + _POW5_INV_BITCOUNT)) // p + 1
        inverse[i] = (value & _M64, value >> 64)
    for i in range(326):
        p = 5**i
        shift = p.bit_length() - _POW5_BITCOUNT
        value = p >> shift if shift >= 0 else p << -shift
        power[i] = (value & _M64, value >> 64)
    return inverse, power


_POW5_INV_SPLIT, _POW5_SPLIT = _tables()
_U0, _U1, _U2, _U4, _U5, _U10, _U64 = (np.uint64(v) for v in (0, 1, 2, 4, 5, 10, 64))
_U100 = np.uint64(100)
_MANTISSA = np.uint64((1 << 52) - 1)
_HIDDEN = np.uint64(1 << 52)


def float_cells(values: np.ndarray) -> list[str]:
    """``repr(x)`` of each value of the 1-D float64 ``values``, the empty string for NaN."""
    x = np.ascontiguousarray(values, dtype=np.float64)
    if len(x) == 0:
        return []
    buffer = np.empty(len(x) * (WIDEST + 1), dtype=np.uint8)
    end = _format_nb(x.view(np.uint64), buffer)
    return buffer[:end].tobytes().decode("ascii").split("\n")


@numba.njit(cache=True, nogil=True)
def _format_nb(bits, out):  # pragma: no cover - compiled
    """Write each value's cell into ``out``, the cells separated by newlines; return the length."""
    digits = np.empty(17, dtype=np.uint8)
    pos = 0
    for i in range(len(bits)):
        if i > 0:
            out[pos] = 10  # "\n"
            pos += 1
        pos = write_float(bits[i], out, pos, digits)
    return pos


@numba.njit(cache=True, nogil=True)
def write_float(b, out, pos, digits):  # pragma: no cover - compiled
    """Write ``repr`` of the float64 whose bits are the uint64 ``b`` as ASCII at ``out[pos:]`` (NaN:
    nothing), at most :data:`WIDEST` bytes; return the new end.  ``digits``: 17 uint8 of scratch.

    Compiled, for other compiled loops to call; :func:`float_cells` from Python.
    """
    mantissa = b & _MANTISSA
    exponent = np.int64((b >> np.uint64(52)) & np.uint64(0x7FF))
    negative = (b >> np.uint64(63)) != _U0
    if exponent == 0x7FF:
        if mantissa != _U0:
            return pos  # NaN: an empty cell
        if negative:
            out[pos] = 45  # "-"
            pos += 1
        out[pos], out[pos + 1], out[pos + 2] = 105, 110, 102  # "inf"
        return pos + 3
    if negative:
        out[pos] = 45
        pos += 1
    if exponent == 0 and mantissa == _U0:
        out[pos], out[pos + 1], out[pos + 2] = 48, 46, 48  # "0.0"
        return pos + 3
    output, e10 = _shortest(mantissa, exponent)
    n = 0
    while output != _U0:
        digits[16 - n] = np.uint8(output % _U10) + 48
        output //= _U10
        n += 1
    first = 17 - n  # digits[first:] are the n digits
    point = n + e10  # the decimal point's place: value = 0.d1d2... * 10**point
    if point <= -4 or point > 16:
        out[pos] = digits[first]
        pos += 1
        if n > 1:
            out[pos] = 46  # "."
            pos += 1
            for j in range(first + 1, 17):
                out[pos] = digits[j]
                pos += 1
        out[pos] = 101  # "e"
        power = point - 1
        out[pos + 1] = 45 if power < 0 else 43  # "-" or "+"
        pos += 2
        power = abs(power)
        if power >= 100:
            out[pos] = 48 + power // 100
            pos += 1
        out[pos] = 48 + (power // 10) % 10
        out[pos + 1] = 48 + power % 10
        return pos + 2
    if point <= 0:
        out[pos], out[pos + 1] = 48, 46  # "0."
        pos += 2
        for _ in range(-point):
            out[pos] = 48
            pos += 1
        for j in range(first, 17):
            out[pos] = digits[j]
            pos += 1
        return pos
    for j in range(n):
        if j == point:
            out[pos] = 46
            pos += 1
        out[pos] = digits[first + j]
        pos += 1
    if point >= n:
        for _ in range(point - n):
            out[pos] = 48
            pos += 1
        out[pos], out[pos + 1] = 46, 48  # ".0"
        pos += 2
    return pos


@numba.njit(cache=True, nogil=True)
def _shortest(mantissa, exponent):  # pragma: no cover - compiled
    """Ryū's ``d2d``: the shortest digits (an integer) and decimal exponent of a finite nonzero float64
    with the given 52-bit mantissa field and biased exponent field."""
    if exponent == 0:
        e2 = 1 - 1023 - 52 - 2
        m2 = mantissa
    else:
        e2 = exponent - 1023 - 52 - 2
        m2 = _HIDDEN | mantissa
    accept_bounds = (m2 & _U1) == _U0
    mv = _U4 * m2
    mm_shift = _U1 if (mantissa != _U0 or exponent <= 1) else _U0
    vm_trailing_zeros = False
    vr_trailing_zeros = False
    if e2 >= 0:
        q = ((e2 * 78913) >> 18) - (1 if e2 > 3 else 0)  # log10(2**e2), less one above 3
        e10 = q
        k = _POW5_INV_BITCOUNT + _pow5_bits(q) - 1
        i = -e2 + q + k
        vr = _mul_shift(mv, _POW5_INV_SPLIT[q, 0], _POW5_INV_SPLIT[q, 1], i)
        vp = _mul_shift(mv + _U2, _POW5_INV_SPLIT[q, 0], _POW5_INV_SPLIT[q, 1], i)
        vm = _mul_shift(mv - _U1 - mm_shift, _POW5_INV_SPLIT[q, 0], _POW5_INV_SPLIT[q, 1], i)
        if q <= 21:
            if mv % _U5 == _U0:
                vr_trailing_zeros = _pow5_factor(mv) >= q
            elif accept_bounds:
                vm_trailing_zeros = _pow5_factor(mv - _U1 - mm_shift) >= q
            elif _pow5_factor(mv + _U2) >= q:
                vp -= _U1
    else:
        q = ((-e2 * 732923) >> 20) - (1 if -e2 > 1 else 0)  # log10(5**-e2), less one above 1
        e10 = q + e2
        i = -e2 - q
        k = _pow5_bits(i) - _POW5_BITCOUNT
        j = q - k
        vr = _mul_shift(mv, _POW5_SPLIT[i, 0], _POW5_SPLIT[i, 1], j)
        vp = _mul_shift(mv + _U2, _POW5_SPLIT[i, 0], _POW5_SPLIT[i, 1], j)
        vm = _mul_shift(mv - _U1 - mm_shift, _POW5_SPLIT[i, 0], _POW5_SPLIT[i, 1], j)
        if q <= 1:
            vr_trailing_zeros = True  # mv has at least q trailing 0 bits
            if accept_bounds:
                vm_trailing_zeros = mm_shift == _U1
            else:
                vp -= _U1
        elif q < 63:
            vr_trailing_zeros = (mv & ((_U1 << np.uint64(q)) - _U1)) == _U0
    removed = 0
    last_removed = _U0
    if vm_trailing_zeros or vr_trailing_zeros:
        while vp // _U10 > vm // _U10:
            vm_trailing_zeros = vm_trailing_zeros and vm % _U10 == _U0
            vr_trailing_zeros = vr_trailing_zeros and last_removed == _U0
            vr, vp, vm, last_removed = _drop_digit(vr, vp, vm)
            removed += 1
        if vm_trailing_zeros:
            while vm % _U10 == _U0:
                vr_trailing_zeros = vr_trailing_zeros and last_removed == _U0
                vr, vp, vm, last_removed = _drop_digit(vr, vp, vm)
                removed += 1
        if vr_trailing_zeros and last_removed == _U5 and vr % _U2 == _U0:
            last_removed = _U4  # exactly halfway: round to even
        up = (vr == vm and (not accept_bounds or not vm_trailing_zeros)) or last_removed >= _U5
        return vr + (_U1 if up else _U0), e10 + removed
    round_up = False
    if vp // _U100 > vm // _U100:
        round_up = vr % _U100 >= np.uint64(50)
        vr //= _U100
        vp //= _U100
        vm //= _U100
        removed += 2
    while vp // _U10 > vm // _U10:
        vr, vp, vm, last = _drop_digit(vr, vp, vm)
        round_up = last >= _U5
        removed += 1
    return vr + (_U1 if (vr == vm or round_up) else _U0), e10 + removed


@numba.njit(cache=True, nogil=True)
def _drop_digit(vr, vp, vm):  # pragma: no cover - compiled
    """The three candidates without their last decimal digit, and the digit ``vr`` lost."""
    return vr // _U10, vp // _U10, vm // _U10, vr % _U10


@numba.njit(cache=True, nogil=True)
def _pow5_bits(e):  # pragma: no cover - compiled
    """The bit length of 5**e (0 <= e <= 3528), ceil(log2(5**e)) with 1 for e = 0."""
    return ((e * 1217359) >> 19) + 1


@numba.njit(cache=True, nogil=True)
def _pow5_factor(value):  # pragma: no cover - compiled
    """How many times 5 divides the nonzero ``value``."""
    count = 0
    while value % _U5 == _U0:
        value //= _U5
        count += 1
    return count


@numba.njit(cache=True, nogil=True)
def _mul_shift(m, low, high, j):  # pragma: no cover - compiled
    """floor(m * (high * 2**64 + low) / 2**j) for 64 < j < 128, m below 2**55 (Ryū's ``mulShift64``)."""
    high1, low1 = mul128(m, high)
    high0, _ = mul128(m, low)
    total = high0 + low1
    if total < high0:
        high1 += _U1
    shift = np.uint64(j - 64)
    return (high1 << (_U64 - shift)) | (total >> shift)
