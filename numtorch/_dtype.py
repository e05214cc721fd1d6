"""The one dtype table: torch name <-> NumPy dtype <-> storage class name <-> safetensors code.

Every other module looks dtypes up here.
"""
from __future__ import annotations

import numpy as np
import ml_dtypes

__all__ = ["dtype", "from_numpy_dtype", "to_numpy_dtype", "promote_types", "result_type",
           "get_default_dtype", "set_default_dtype", "ALL_DTYPES"]


class dtype:
    """A tensor element type, named as in torch (``numtorch.float32`` ...)."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_complex", "is_signed",
                 "storage_name", "safetensors_code", "_category", "_rank", "__weakref__")

    def __init__(self, name: str, np_dtype, storage_name: str, safetensors_code: str,
                 category: int, rank: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = name not in ("uint8", "bool", "uint16", "uint32", "uint64")
        self.storage_name = storage_name
        self.safetensors_code = safetensors_code
        self._category = category  # 0 bool, 1 integer, 2 floating, 3 complex
        self._rank = rank

    def __repr__(self) -> str:
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_complex(self) -> "dtype":
        return {"float64": complex128, "float32": complex64}.get(self.name, complex64)

    def to_real(self) -> "dtype":
        return {"complex128": float64, "complex64": float32}.get(self.name, self)


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


bool_ = dtype("bool", np.bool_, "BoolStorage", "BOOL", 0, 0)
uint8 = dtype("uint8", np.uint8, "ByteStorage", "U8", 1, 1)
int8 = dtype("int8", np.int8, "CharStorage", "I8", 1, 2)
int16 = dtype("int16", np.int16, "ShortStorage", "I16", 1, 3)
int32 = dtype("int32", np.int32, "IntStorage", "I32", 1, 4)
int64 = dtype("int64", np.int64, "LongStorage", "I64", 1, 5)
uint16 = dtype("uint16", np.uint16, "UInt16Storage", "U16", 1, 3)
uint32 = dtype("uint32", np.uint32, "UInt32Storage", "U32", 1, 4)
uint64 = dtype("uint64", np.uint64, "UInt64Storage", "U64", 1, 5)
float16 = dtype("float16", np.float16, "HalfStorage", "F16", 2, 1)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, "BFloat16Storage", "BF16", 2, 1)
float32 = dtype("float32", np.float32, "FloatStorage", "F32", 2, 2)
float64 = dtype("float64", np.float64, "DoubleStorage", "F64", 2, 3)
complex64 = dtype("complex64", np.complex64, "ComplexFloatStorage", "C64", 3, 2)
complex128 = dtype("complex128", np.complex128, "ComplexDoubleStorage", "C128", 3, 3)
float8_e4m3fn = dtype("float8_e4m3fn", ml_dtypes.float8_e4m3fn, "Float8_e4m3fnStorage",
                      "F8_E4M3", 2, 0)
float8_e5m2 = dtype("float8_e5m2", ml_dtypes.float8_e5m2, "Float8_e5m2Storage", "F8_E5M2", 2, 0)


def _opaque(name: str, base: str) -> np.dtype:
    """A NumPy dtype of its own for a torch dtype NumPy lacks (holds the raw bytes)."""
    return np.dtype([(name, base)])


# dtypes torch stores (untyped storages) but computes little with: loaded, saved, viewed
float8_e4m3fnuz = dtype("float8_e4m3fnuz", ml_dtypes.float8_e4m3fnuz, None, "F8_E4M3FNUZ", 2, 0)
float8_e5m2fnuz = dtype("float8_e5m2fnuz", ml_dtypes.float8_e5m2fnuz, None, "F8_E5M2FNUZ", 2, 0)
float8_e8m0fnu = dtype("float8_e8m0fnu", getattr(ml_dtypes, "float8_e8m0fnu", None) or
                       _opaque("float8_e8m0fnu", "u1"), None, "F8_E8M0", 2, 0)
float4_e2m1fn_x2 = dtype("float4_e2m1fn_x2", _opaque("float4_e2m1fn_x2", "u1"), None, None, 2, 0)
complex32 = dtype("complex32", np.dtype([("real", "<f2"), ("imag", "<f2")]), None, None, 3, 1)
bits8 = dtype("bits8", _opaque("bits8", "u1"), None, None, 1, 0)
bits16 = dtype("bits16", _opaque("bits16", "<u2"), None, None, 1, 0)

ALL_DTYPES = (bool_, uint8, int8, int16, int32, int64, uint16, uint32, uint64, float16, bfloat16,
              float32, float64, complex64, complex128, float8_e4m3fn, float8_e5m2,
              float8_e4m3fnuz, float8_e5m2fnuz, float8_e8m0fnu, float4_e2m1fn_x2, complex32,
              bits8, bits16)

_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NP = {d.np: d for d in ALL_DTYPES}
_BY_NP.update({d.np.type: d for d in ALL_DTYPES if d.np.fields is None})
_BY_STORAGE = {d.storage_name: d for d in ALL_DTYPES if d.storage_name}
_BY_SAFETENSORS = {d.safetensors_code: d for d in ALL_DTYPES if d.safetensors_code}

# torch aliases
ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32,
           "short": int16, "cfloat": complex64, "cdouble": complex128, "bool": bool_}

_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype of floating tensors created from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (float32, float64, float16 or bfloat16)."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def from_numpy_dtype(np_dtype) -> dtype:
    """The numtorch dtype for a NumPy dtype; TypeError for ones torch does not have."""
    try:
        return _BY_NP[np_dtype]
    except (KeyError, TypeError):
        pass
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, "
            "uint32, uint16, uint8, and bool.") from None


def to_numpy_dtype(d) -> np.dtype:
    """The NumPy dtype behind a numtorch dtype (or anything np.dtype accepts)."""
    if isinstance(d, dtype):
        return d.np
    return np.dtype(d)


def by_storage_name(name: str) -> dtype:
    """dtype for a torch storage class name such as ``FloatStorage``."""
    return _BY_STORAGE[name]


def by_safetensors_code(code: str) -> dtype:
    """dtype for a safetensors dtype code such as ``F32``."""
    return _BY_SAFETENSORS[code]


def by_name(name: str) -> dtype:
    """dtype for a torch name such as ``float32`` or an alias such as ``float``."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    return ALIASES[name]


_UNSIGNED_PROMOTE = {}


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types: the smallest dtype both a and b convert to without losing category."""
    if a is b:
        return a
    ca, cb = a._category, b._category
    if ca != cb:
        hi, lo = (a, b) if ca > cb else (b, a)
        if hi.is_complex and lo.is_floating_point and lo._rank > hi._rank:
            return lo.to_complex() if lo is not float16 else complex64
        if hi.is_floating_point or hi.is_complex:
            return hi
        return hi  # integer beats bool
    if ca == 2:
        if {a.name, b.name} == {"float16", "bfloat16"}:
            return float32
        return a if a._rank > b._rank else b
    if ca == 1:
        if a.is_signed == b.is_signed:
            return a if a.itemsize > b.itemsize else b
        s, u = (a, b) if a.is_signed else (b, a)
        if s.itemsize > u.itemsize:
            return s
        return {1: int16, 2: int32, 4: int64}.get(u.itemsize, float32)
    return a if a._rank > b._rank else b


def _category_of_scalar(x) -> int:
    if isinstance(x, bool):
        return 0
    if isinstance(x, int):
        return 1
    if isinstance(x, float):
        return 2
    if isinstance(x, complex):
        return 3
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


_DEFAULT_FOR_CATEGORY = {0: bool_, 1: int64}


def scalar_dtype(x) -> dtype:
    """The dtype torch gives a Python scalar on its own (torch.tensor(x).dtype)."""
    c = _category_of_scalar(x)
    if c == 2:
        return _default_float
    if c == 3:
        return _default_float.to_complex()
    return _DEFAULT_FOR_CATEGORY[c]


def result_type(dim_dtypes, zero_dim_dtypes, scalars) -> dtype:
    """Torch's promotion over dimensioned tensors, zero-dim tensors and Python scalars.

    A lower-priority group only changes the result when its category is higher.
    """
    result = None
    for d in dim_dtypes:
        result = d if result is None else promote_types(result, d)
    zd = None
    for d in zero_dim_dtypes:
        zd = d if zd is None else promote_types(zd, d)
    if zd is not None:
        if result is None:
            result = zd
        elif zd._category > result._category:
            result = promote_types(result, zd) if zd._category < 2 else zd if not (
                zd.is_complex and result.is_floating_point) else promote_types(result, zd)
    sc = -1
    for s in scalars:
        sc = max(sc, _category_of_scalar(s))
    if sc >= 0:
        if result is None:
            sd = None
            for s in scalars:
                d = scalar_dtype(s)
                sd = d if sd is None else promote_types(sd, d)
            return sd
        if sc > result._category:
            if sc == 3:
                result = result.to_complex() if result.is_floating_point else \
                    _default_float.to_complex()
            elif sc == 2:
                result = _default_float
            else:
                result = int64
    return result


def _info_dtype(d, kind: str) -> "dtype":
    if d is None:
        return _default_float
    if not isinstance(d, dtype):
        raise TypeError(f"torch.{kind}(): argument 'type' must be torch.dtype, not "
                        f"{type(d).__name__}")
    return d


class finfo:
    """Machine limits of a floating dtype, as ``torch.finfo`` (default: the default dtype)."""

    def __init__(self, type: dtype | None = None) -> None:  # noqa: A002 - torch's name
        d = _info_dtype(type, "finfo")
        if d._category < 2:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo "
                            "to handle 'torch.finfo'")
        d = d.to_real()
        info = ml_dtypes.finfo(d.np) if d.np.kind == "V" or d.name.startswith(
            ("bfloat", "float8")) else np.finfo(d.np)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as ``torch.iinfo``."""

    def __init__(self, type: dtype) -> None:  # noqa: A002 - torch's name
        d = _info_dtype(type, "iinfo")
        if d is bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d._category != 1:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = d.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether torch's casting rules allow ``from_`` -> ``to`` (never to a lower category)."""
    return from_._category <= to._category
