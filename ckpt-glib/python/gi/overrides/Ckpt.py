# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject override for ckpt-glib (``gi.repository.Ckpt``).

It makes :class:`Ckpt.Manager` take and return plain Python values (dicts,
lists, tuples, str, int, float, bool, bytes, None, numpy arrays and scalars,
torch tensors), converted to and from GVariant by a fixed, documented
mapping (``docs/python.md``), while a ``GLib.Variant`` is still accepted as
it is, and returned on request (``raw=True``). A value comes back as the
Python type it was saved as.

Python -> GVariant:

    bool -> b      int -> x (int64)    float -> d      str -> s
    bytes, bytearray -> ay             None -> a maybe (mv, or mT in a list)
    dict (str keys) -> a{sv}           dict (int keys) -> a{xv}
    tuple -> (...)                     GLib.Variant -> itself
    list -> aT (all elements of one type T; [] -> av, or the array type of
            its siblings inside a list)
    numpy array (any dtype, any shape), numpy scalar, torch tensor,
    Ckpt.Tensor -> tensor (satay)

The tensors share one GVariant type; which Python type each was is recorded
in the checkpoint's header metadata (``python-types``), and loads give back
that type. Arrays are passed to GLib without a copy when saved, and loaded
numpy arrays are read-only views of the loaded data.

GVariant -> Python: the reverse; fixed numeric arrays (ad ai ax ab an aq au
at) become lists (numpy arrays with numpy=True), tensors numpy arrays (or
what was recorded), ay bytes, a{..} a dict, other arrays lists, tuples
tuples, maybe types None or the value, o and g str.
"""

import array
import collections
import ctypes
import ctypes.util
import itertools
import os
import re
import sys

from gi.repository import GLib, GObject, Gio

from ..module import get_introspection_module
from ..overrides import override

Ckpt = get_introspection_module('Ckpt')

__all__ = []

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

_TENSOR_TYPE = '(satay)'
# A tensor's dtype: numpy's dtype.str of a numeric type: byte order ('<'
# little, '>' big, '|' not applicable), kind (b bool, i signed, u unsigned,
# f float, c complex, bf bfloat16) and the item size in bytes.
_DTYPE_RE = re.compile(r'([<>|])(bf|[biufc])([1-9][0-9]*)')
_NATIVE = '<' if sys.byteorder == 'little' else '>'

# The header metadata entry recording the Python type of each tensor of the
# state, one letter per (satay) value in the order of a depth-first walk of
# the state (dict entries, array elements and tuple members in order):
_META_KEY = 'python-types'
_CODE_NUMPY = 'n'      # numpy.ndarray
_CODE_SCALAR = 's'     # numpy scalar (numpy.generic)
_CODE_TORCH = 't'      # torch.Tensor
_CODE_TENSOR = 'T'     # Ckpt.Tensor
_CODE_PLAIN = 'g'      # a (satay) inside a GLib.Variant given as it is

# Fixed arrays: GVariant element type -> (array module typecode, numpy dtype).
_FIXED = {
    'b': (None, '?'),
    'n': ('h', 'i2'),
    'q': ('H', 'u2'),
    'i': ('i', 'i4'),
    'u': ('I', 'u4'),
    'x': ('q', 'i8'),
    't': ('Q', 'u8'),
    'd': ('d', 'f8'),
}


class Tensor(collections.namedtuple('Tensor', ('dtype', 'shape', 'data'))):
    """A tensor without numpy: the Python side of the ``(satay)`` encoding.

    ``dtype`` is a numpy dtype string such as ``'<f4'`` (or ``'<bf2'`` for
    bfloat16), ``shape`` a tuple of ints, ``data`` the elements' bytes in C
    order. Saving one writes it as a tensor, and it comes back as one; loads
    also return one for each tensor that numpy cannot represent (bfloat16)
    or when ``numpy=False``.
    """

    __slots__ = ()


__all__.append('Tensor')


# Zero-copy GVariants over memory that Python owns, through libglib itself
# (ctypes): g_variant_new_from_data() with a notify that drops the reference
# keeping the buffer's owner alive, called by GLib when the last reference
# to the variant goes (in whatever thread that happens). The variant reaches
# PyGObject through a GValue. If any of this is unavailable, saves copy.

class _ZeroCopy:
    def __init__(self):
        self.ok = False
        self.alive = {}
        self.keys = itertools.count(1)
        try:
            glib = ctypes.CDLL(ctypes.util.find_library('glib-2.0') or 'libglib-2.0.so.0')
            gobject = ctypes.CDLL(ctypes.util.find_library('gobject-2.0') or
                                  'libgobject-2.0.so.0')
            self.notify_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
            self.new_from_data = glib.g_variant_new_from_data
            self.new_from_data.restype = ctypes.c_void_p
            self.new_from_data.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                           ctypes.c_int, self.notify_type, ctypes.c_void_p]
            self.type_checked = glib.g_variant_type_checked_
            self.type_checked.restype = ctypes.c_void_p
            self.type_checked.argtypes = [ctypes.c_char_p]
            self.take_variant = gobject.g_value_take_variant
            self.take_variant.restype = None
            self.take_variant.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            self.ay = self.type_checked(b'ay')
            self.notify = self.notify_type(self._release)
            self.ok = True
            probe = (ctypes.c_char * 3).from_buffer_copy(b'ok!')
            v = self.bytestring(probe, ctypes.addressof(probe), 3)
            self.ok = (v.get_type_string() == 'ay' and bytes(v.get_data_as_bytes().get_data())
                       == b'ok!')
        except Exception:  # pragma: no cover - no libglib by name, no ctypes
            self.ok = False

    def _release(self, key):
        self.alive.pop(key, None)

    def bytestring(self, owner, address, size):
        """An 'ay' over size bytes at address, which owner keeps alive."""
        key = next(self.keys)
        self.alive[key] = owner
        ptr = self.new_from_data(self.ay, address, size, 1, self.notify, key)
        value = GObject.Value()
        value.init(GObject.TYPE_VARIANT)
        self.take_variant(hash(value), ptr)
        try:
            return value.get_variant()
        finally:
            value.unset()


_zero_copy = None


def _bytestring(owner, address, size, as_bytes):
    """An 'ay' variant of the size bytes at address (owned by owner), without
    a copy when possible; as_bytes() gives them as bytes otherwise."""
    global _zero_copy
    if size == 0:
        return _from_bytes('ay', b'')
    if _zero_copy is None:
        _zero_copy = _ZeroCopy()
    if _zero_copy.ok:
        return _zero_copy.bytestring(owner, address, size)
    return _from_bytes('ay', as_bytes())


# Paths inside a structure, for error messages: None is the value itself,
# (parent, key) is parent[key]. Formatted only when an error is raised.

def _path_str(path):
    keys = []
    while path is not None:
        path, key = path
        keys.append('[%r]' % (key,))
    return 'value' + ''.join(reversed(keys))


def _type_name(value):
    return type(value).__name__


# Type patterns: GVariant type strings in which '*' stands for the element
# type of an empty list, still to be decided by its siblings.

def _type_end(s, i):
    c = s[i]
    if c in 'am':
        return _type_end(s, i + 1)
    if c in '({':
        close = ')' if c == '(' else '}'
        i += 1
        while s[i] != close:
            i = _type_end(s, i)
        return i + 1
    return i + 1


def _split_types(s):
    items = []
    i = 0
    while i < len(s):
        end = _type_end(s, i)
        items.append(s[i:end])
        i = end
    return items


def _unify(p, q):
    if p == q:
        return p
    if p == '*':
        return q
    if q == '*':
        return p
    if p[0] == 'm' and q[0] != 'm':
        inner = _unify(p[1:], q)
        return None if inner is None else 'm' + inner
    if q[0] == 'm' and p[0] != 'm':
        inner = _unify(p, q[1:])
        return None if inner is None else 'm' + inner
    if p[0] != q[0]:
        return None
    if p[0] in 'am':
        inner = _unify(p[1:], q[1:])
        return None if inner is None else p[0] + inner
    if p[0] in '({':
        ps = _split_types(p[1:-1])
        qs = _split_types(q[1:-1])
        if len(ps) != len(qs):
            return None
        parts = []
        for a, b in zip(ps, qs):
            u = _unify(a, b)
            if u is None:
                return None
            parts.append(u)
        return p[0] + ''.join(parts) + p[-1]
    return None


# Python -> GVariant

def _from_bytes(type_string, data, trusted=True):
    return GLib.Variant.new_from_bytes(GLib.VariantType.new(type_string),
                                       GLib.Bytes.new(data), trusted)


def _check_str(s, path, what='str'):
    if '\0' in s:
        raise ValueError('%s: %s %r contains a NUL character, which a GVariant string '
                         'cannot hold' % (_path_str(path), what, s))
    try:
        s.encode('utf-8')
    except UnicodeEncodeError as e:
        raise ValueError('%s: %s %r is not valid Unicode (%s)'
                         % (_path_str(path), what, s, e.reason)) from None


def _int(value, path, what=''):
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError('%s: %s%d is out of the range of a 64-bit signed integer '
                         '(GVariant type x: -2**63 .. 2**63-1); save it as a float or a str'
                         % (_path_str(path), what, value))
    return GLib.Variant.new_int64(value)


class _Encoder:
    """The state of one conversion: the record of the tensors' Python types
    (None while a part is converted again, see _list_to_variant)."""

    def __init__(self):
        self.codes = []

    def record(self, code):
        if self.codes is not None:
            self.codes.append(code)


def _tensor_variant(dtype, shape, data):
    return GLib.Variant.new_tuple(GLib.Variant.new_string(dtype),
                                  GLib.Variant('at', list(shape)), data)


def _numpy_to_variant(arr, np, path):
    if isinstance(arr, np.ma.MaskedArray):
        raise TypeError('%s: numpy masked arrays cannot be saved; save .data and .mask '
                        'separately' % _path_str(path))
    kind = arr.dtype.kind
    if kind not in 'biufc' or arr.dtype.fields is not None or arr.dtype.subdtype is not None:
        raise TypeError('%s: numpy arrays of dtype %s cannot be saved (only bool, integer, '
                        'float and complex dtypes)' % (_path_str(path), arr.dtype))
    if not arr.flags.c_contiguous:
        arr = np.array(arr, order='C')  # (ascontiguousarray makes a 0-d array 1-D)
    # The dtype as it is, byte order included: '>f8' stays big-endian.
    data = _bytestring(arr, arr.ctypes.data, arr.nbytes, arr.tobytes)
    return _tensor_variant(arr.dtype.str, arr.shape, data)


# torch dtype name -> the dtype string of its tensors (native byte order).
_TORCH_DTYPES = {
    'bool': '|b1', 'uint8': '|u1', 'int8': '|i1',
    'int16': 'i2', 'int32': 'i4', 'int64': 'i8',
    'float16': 'f2', 'bfloat16': 'bf2', 'float32': 'f4', 'float64': 'f8',
    'complex64': 'c8', 'complex128': 'c16',
}


def _torch_dtype_str(name):
    s = _TORCH_DTYPES.get(name)
    if s is None:
        return None
    return s if s[0] == '|' else _NATIVE + s


def _torch_to_variant(t, torch, path):
    name = str(t.dtype).replace('torch.', '')
    dtype = _torch_dtype_str(name)
    if dtype is None:
        raise TypeError('%s: torch tensors of dtype %s cannot be saved' % (_path_str(path), name))
    if t.layout != torch.strided or t.is_quantized:
        raise TypeError('%s: only dense torch tensors can be saved, not %s ones (use '
                        '.to_dense())' % (_path_str(path), t.layout))
    t = t.detach()
    if t.device.type != 'cpu':
        t = t.cpu()
    if t.is_conj():
        t = t.resolve_conj()
    if t.is_neg():
        t = t.resolve_neg()
    if not t.is_contiguous():
        t = t.contiguous()
    size = t.numel() * t.element_size()

    def as_bytes():
        return ctypes.string_at(t.data_ptr(), size)

    data = _bytestring(t, t.data_ptr() if size else 0, size, as_bytes)
    return _tensor_variant(dtype, tuple(t.shape), data)


def _tensor_to_variant(t, path):
    dtype, shape, data = t
    m = _DTYPE_RE.fullmatch(dtype) if isinstance(dtype, str) else None
    if m is None:
        raise ValueError('%s: Tensor dtype %r is not a numpy dtype string such as \'<f4\''
                         % (_path_str(path), dtype))
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError('%s: Tensor shape must be a sequence of ints, not %s'
                        % (_path_str(path), _type_name(shape))) from None
    count = 1
    for n in shape:
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < (1 << 64):
            raise ValueError('%s: Tensor shape %r: each dimension must be an int >= 0'
                             % (_path_str(path), shape))
        count *= n
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError('%s: Tensor data must be bytes, not %s'
                        % (_path_str(path), _type_name(data)))
    if len(data) != count * int(m.group(3)):
        raise ValueError('%s: Tensor data holds %d bytes; dtype %s and shape %r need %d'
                         % (_path_str(path), len(data), dtype, shape, count * int(m.group(3))))
    return _tensor_variant(dtype, shape, _from_bytes('ay', bytes(data)))


def _list_to_variant(value, path, target, enc):
    if not value:
        if target is not None:
            return GLib.Variant.new_array(GLib.VariantType.new(target[1:]), []), target
        return GLib.Variant.new_array(GLib.VariantType.new('v'), []), 'a*'

    # Lists of one scalar type, without a per-element Python loop.
    types = set(map(type, value))
    if len(types) == 1 and (target is None or target[1] != 'm'):
        t = types.pop()
        if t is float:
            return _from_bytes('ad', array.array('d', value).tobytes()), 'ad'
        if t is bool:
            return _from_bytes('ab', bytes(value)), 'ab'
        if t is int:
            try:
                return _from_bytes('ax', array.array('q', value).tobytes()), 'ax'
            except OverflowError:
                pass  # the loop below names the element out of range

    elem_target = target[1:] if target is not None else None
    results = [_to_variant(x, (path, i), elem_target, enc) for i, x in enumerate(value)]
    pattern = results[0][1]
    for i in range(1, len(results)):
        unified = _unify(pattern, results[i][1])
        if unified is None:
            j = next((j for j in range(i) if _unify(results[j][1], results[i][1]) is None), 0)
            tj = results[j][0].get_type_string()
            ti = results[i][0].get_type_string()
            hint = ''
            if {tj, ti} == {'x', 'd'}:
                hint = ' (write 1.0, not 1, to make an int a float)'
            raise TypeError('%s: the elements of a list must all map to one GVariant type, '
                            'but %s maps to \'%s\' (%s) and %s to \'%s\' (%s)%s'
                            % (_path_str(path), _path_str((path, j)), tj, _type_name(value[j]),
                               _path_str((path, i)), ti, _type_name(value[i]), hint))
        pattern = unified

    concrete = pattern.replace('*', 'v')
    children = []
    codes, enc.codes = enc.codes, None  # recorded already, in the first pass
    try:
        for i, (child, _) in enumerate(results):
            if child.get_type_string() != concrete:
                # An empty list or a None somewhere inside: convert it again
                # with its siblings' type.
                child = _to_variant(value[i], (path, i), concrete, enc)[0]
            children.append(child)
    finally:
        enc.codes = codes
    return GLib.Variant.new_array(GLib.VariantType.new(concrete), children), 'a' + pattern


def _dict_to_variant(value, path, enc):
    entries = []
    int_keys = None
    for key, item in value.items():
        is_int = isinstance(key, int) and not isinstance(key, bool)
        if not is_int and not isinstance(key, str):
            raise TypeError('%s: dict key %r is of type %s; only str keys (a{sv}) or int keys '
                            '(a{xv}) can be saved' % (_path_str(path), key, _type_name(key)))
        if int_keys is None:
            int_keys = is_int
        elif int_keys != is_int:
            raise TypeError('%s: dict keys must be all str (a{sv}) or all int (a{xv}), but '
                            'it has %r and %r' % (_path_str(path), next(iter(value)), key))
        if is_int:
            k = _int(key, path, 'dict key ')
        else:
            _check_str(key, path, 'dict key')
            k = GLib.Variant.new_string(key)
        child = _to_variant(item, (path, key), None, enc)[0]
        entries.append(GLib.Variant.new_dict_entry(k, GLib.Variant.new_variant(child)))
    entry_type = '{xv}' if int_keys else '{sv}'
    return GLib.Variant.new_array(GLib.VariantType.new(entry_type), entries), 'a' + entry_type


def _record_variant(v, enc):
    """Records the tensors inside a GLib.Variant given as it is."""
    ts = v.get_type_string()
    if _TENSOR_TYPE not in ts and 'v' not in ts:
        return
    if ts == _TENSOR_TYPE:
        enc.record(_CODE_PLAIN)
        return
    c = ts[0]
    if c == 'v':
        _record_variant(v.get_variant(), enc)
    elif c == 'm':
        inner = v.get_maybe()
        if inner is not None:
            _record_variant(inner, enc)
    elif c in 'a({':
        for i in range(v.n_children()):
            _record_variant(v.get_child_value(i), enc)


def _maybe(value, path, target, enc):
    """value (not None) as a Just of the maybe type target."""
    if isinstance(value, GLib.Variant) and value.get_type_string() == target:
        return value, target
    child = _to_variant(value, path, target[1:], enc)[0]
    return GLib.Variant.new_maybe(None, child), 'm' + child.get_type_string()


def _is_numpy_scalar(value):
    # numpy.float64 is a float subclass: it is saved as a numpy scalar.
    np = sys.modules.get('numpy')
    return np is not None and isinstance(value, np.generic)


def _to_variant(value, path, target, enc):
    """Returns (variant, type pattern)."""
    if value is None:
        if target is not None and target[0] == 'm':
            return GLib.Variant.new_maybe(GLib.VariantType.new(target[1:]), None), target
        return GLib.Variant.new_maybe(GLib.VariantType.new('v'), None), 'm*'
    if target is not None and target[0] == 'm':
        return _maybe(value, path, target, enc)
    if isinstance(value, GLib.Variant):
        if enc.codes is not None:
            _record_variant(value, enc)
        return value, value.get_type_string()
    if isinstance(value, bool):
        return GLib.Variant.new_boolean(value), 'b'
    if isinstance(value, int):
        return _int(value, path), 'x'
    if isinstance(value, float) and (type(value) is float or not _is_numpy_scalar(value)):
        return GLib.Variant.new_double(value), 'd'
    if isinstance(value, str):
        _check_str(value, path)
        return GLib.Variant.new_string(value), 's'
    if isinstance(value, dict):
        return _dict_to_variant(value, path, enc)
    if isinstance(value, list):
        return _list_to_variant(value, path, target, enc)
    if isinstance(value, Tensor):
        enc.record(_CODE_TENSOR)
        return _tensor_to_variant(value, path), _TENSOR_TYPE
    if isinstance(value, tuple):
        targets = _split_types(target[1:-1]) if target is not None else [None] * len(value)
        results = [_to_variant(x, (path, i), t, enc)
                   for i, (x, t) in enumerate(zip(value, targets))]
        return (GLib.Variant.new_tuple(*[v for v, _ in results]),
                '(' + ''.join(p for _, p in results) + ')')
    if isinstance(value, (bytes, bytearray)):
        return _from_bytes('ay', bytes(value)), 'ay'
    np = sys.modules.get('numpy')
    if np is not None:
        if isinstance(value, np.ndarray):
            v = _numpy_to_variant(value, np, path)
            enc.record(_CODE_NUMPY)
            return v, _TENSOR_TYPE
        if isinstance(value, np.generic):
            if value.dtype.kind not in 'biufc':
                raise TypeError('%s: numpy scalars of dtype %s cannot be saved'
                                % (_path_str(path), value.dtype))
            v = _numpy_to_variant(np.asarray(value), np, path)
            enc.record(_CODE_SCALAR)
            return v, _TENSOR_TYPE
    torch = sys.modules.get('torch')
    if torch is not None and isinstance(value, torch.Tensor):
        v = _torch_to_variant(value, torch, path)
        enc.record(_CODE_TORCH)
        return v, _TENSOR_TYPE
    raise TypeError('%s: cannot save a value of type %s (use dict, list, tuple, str, int, '
                    'float, bool, bytes, None, a numpy array or scalar, a torch tensor or a '
                    'GLib.Variant)' % (_path_str(path), _type_name(value)))


def _encode(value):
    enc = _Encoder()
    variant = _to_variant(value, None, None, enc)[0]
    codes = ''.join(enc.codes)
    if not codes.strip(_CODE_PLAIN):
        return variant, None
    return variant, GLib.Variant('a{sv}', {_META_KEY: GLib.Variant('s', codes)})


def to_variant(value):
    """Converts a Python value to a GLib.Variant, by the mapping of docs/python.md.

    Raises TypeError for a value that cannot be mapped (a list of mixed
    types, an unsupported type) and ValueError for one out of range (an int
    beyond int64, a str with a NUL); the message names the place, e.g.
    ``value['opt']['steps'][3]``. Tensors (numpy arrays and scalars, torch
    tensors) are not copied: the variant refers to their memory, so do not
    change them while it is alive. To keep their Python types, use
    :func:`to_variant_with_metadata`.
    """
    return _encode(value)[0]


__all__.append('to_variant')


def to_variant_with_metadata(value):
    """Like :func:`to_variant`, and returns ``(variant, metadata)``: the
    header metadata (an ``a{sv}`` GLib.Variant recording the Python type of
    each tensor, or None when there is nothing to record) that
    :meth:`Manager.save` stores with the state and :func:`from_variant`
    takes back."""
    return _encode(value)


__all__.append('to_variant_with_metadata')


# GVariant -> Python

_numpy_module = None
_numpy_tried = False


def _get_numpy(mode):
    global _numpy_module, _numpy_tried
    if mode is False:
        return None
    if mode is None:
        if not _numpy_tried:
            _numpy_tried = True
            try:
                import numpy
                _numpy_module = numpy
            except ImportError:
                _numpy_module = None
        return _numpy_module
    if mode is True:
        import numpy
        return numpy
    raise TypeError('numpy must be None (automatic), True or False, not %r' % (mode,))


def _get_torch():
    torch = sys.modules.get('torch')
    if torch is not None:
        return torch
    try:
        import torch
    except ImportError:
        return None
    return torch


def _bytes_of(v):
    if v.get_size() == 0:
        return b''
    return v.get_data_as_bytes().get_data()


def _buffer_of(v):
    """A ctypes buffer over v's serialised data, keeping v alive; None if
    PyGObject does not give its address (or it is empty)."""
    size = v.get_size()
    ptr = v.get_data() if size else None
    if not isinstance(ptr, int) or ptr == 0:
        return None
    buf = (ctypes.c_char * size).from_address(ptr)
    buf._ckpt_variant = v
    return buf


def _numpy_view(v, dt, shape, np):
    """A read-only numpy array over v's data (no copy), of dtype dt."""
    buf = _buffer_of(v)
    if buf is None:
        out = np.frombuffer(bytearray(_bytes_of(v)), dt).reshape(shape)
    else:
        out = np.frombuffer(buf, dt).reshape(shape)
    out.flags.writeable = False
    return out


def _fixed_array(v, elem, ctx):
    code, dtype = _FIXED[elem]
    size = v.get_size()
    if ctx.np_fixed is not None:
        np = ctx.np_fixed
        dt = np.dtype(dtype)
        # A fixed array whose size is not a multiple of its element size is
        # empty (not in normal form; GVariant reads it so).
        if size % dt.itemsize != 0 or size == 0:
            out = np.empty(0, dt)
            out.flags.writeable = False
            return out
        return _numpy_view(v, dt, (size // dt.itemsize,), np)
    data = _bytes_of(v)
    if elem == 'b':
        return [b != 0 for b in data]
    a = array.array(code)
    if len(data) % a.itemsize == 0:
        a.frombytes(data)
    return a.tolist()


_TORCH_FROM_STR = {}


def _to_torch(data, dtype, m, shape, torch):
    if not _TORCH_FROM_STR:
        for name in _TORCH_DTYPES:
            _TORCH_FROM_STR[_TORCH_DTYPES[name].lstrip('|')] = getattr(torch, name)
    tdtype = _TORCH_FROM_STR.get(m.group(2) + m.group(3))
    if tdtype is None:
        return None
    # A writable copy: torch has no read-only tensors, and an optimizer
    # changes its loaded state in place.
    out = torch.empty(shape, dtype=tdtype)
    size = data.get_size()
    if size:
        ptr = data.get_data()
        if isinstance(ptr, int) and ptr:
            ctypes.memmove(out.data_ptr(), ptr, size)
        else:
            ctypes.memmove(out.data_ptr(), _bytes_of(data), size)
    if m.group(1) not in ('|', _NATIVE) and out.element_size() > 1:
        view = out.view(torch.int16) if tdtype == torch.bfloat16 else out
        view.numpy().byteswap(inplace=True)
    return out


def _tensor_from_variant(v, path, ctx):
    code = ctx.next_code()
    dtype = v.get_child_value(0).get_string()
    shape = tuple(v.get_child_value(1).unpack())
    data = v.get_child_value(2)
    m = _DTYPE_RE.fullmatch(dtype)
    if m is None:
        raise ValueError('%s: malformed tensor: dtype %r is not a numpy dtype string such as '
                         '\'<f4\' (load with raw=True to get the GLib.Variant)'
                         % (_path_str(path), dtype))
    count = 1
    for n in shape:
        count *= n
    if count * int(m.group(3)) != data.get_size():
        raise ValueError('%s: malformed tensor: %d bytes of data for dtype %s and shape %r '
                         '(load with raw=True to get the GLib.Variant)'
                         % (_path_str(path), data.get_size(), dtype, shape))
    if code == _CODE_TORCH:
        torch = _get_torch()
        if torch is not None:
            out = _to_torch(data, dtype, m, shape, torch)
            if out is not None:
                return out
    np = ctx.np
    if np is None or code == _CODE_TENSOR or m.group(2) == 'bf':
        return Tensor(dtype, shape, _bytes_of(data))
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.itemsize != int(m.group(3)):
        raise ValueError('%s: malformed tensor: numpy does not know dtype %r'
                         % (_path_str(path), dtype))
    out = _numpy_view(data, dt, shape, np)
    if code == _CODE_SCALAR and out.ndim == 0:
        return out[()]
    return out


class _Decoder:
    def __init__(self, numpy, metadata):
        self.np = _get_numpy(numpy)
        self.np_fixed = self.np if numpy is True else None
        self.metadata = metadata
        self.codes = None
        self.pos = 0

    def next_code(self):
        if self.codes is None:
            meta = self.metadata() if callable(self.metadata) else self.metadata
            self.codes = _codes_of(meta)
        code = self.codes[self.pos] if self.pos < len(self.codes) else _CODE_PLAIN
        self.pos += 1
        return code


def _codes_of(metadata):
    if metadata is None:
        return ''
    if isinstance(metadata, GLib.Variant):
        if not metadata.is_of_type(GLib.VariantType.new('a{sv}')):
            return ''
        entry = metadata.lookup_value(_META_KEY, GLib.VariantType.new('s'))
        return entry.get_string() if entry is not None else ''
    codes = metadata.get(_META_KEY)
    if isinstance(codes, GLib.Variant):
        codes = codes.unpack()
    return codes if isinstance(codes, str) else ''


def _from_variant(v, path, ctx):
    ts = v.get_type_string()
    c = ts[0]
    if c == 'v':
        return _from_variant(v.get_variant(), path, ctx)
    if c == 'a':
        elem = ts[1:]
        if elem == 'y':
            return _bytes_of(v)
        if elem in _FIXED:
            return _fixed_array(v, elem, ctx)
        n = v.n_children()
        if elem[0] == '{':
            result = {}
            for i in range(n):
                entry = v.get_child_value(i)
                key = _from_variant(entry.get_child_value(0), path, ctx)
                result[key] = _from_variant(entry.get_child_value(1), (path, key), ctx)
            return result
        return [_from_variant(v.get_child_value(i), (path, i), ctx) for i in range(n)]
    if c == '(':
        if ts == _TENSOR_TYPE:
            return _tensor_from_variant(v, path, ctx)
        return tuple(_from_variant(v.get_child_value(i), (path, i), ctx)
                     for i in range(v.n_children()))
    if c == '{':
        return (_from_variant(v.get_child_value(0), path, ctx),
                _from_variant(v.get_child_value(1), path, ctx))
    if c == 'm':
        inner = v.get_maybe()
        return None if inner is None else _from_variant(inner, path, ctx)
    return v.unpack()


def from_variant(variant, *, numpy=None, metadata=None):
    """Converts a GLib.Variant to Python values, by the mapping of docs/python.md.

    Tensors come back as the Python type that ``metadata`` (the header
    metadata of the checkpoint, as :func:`to_variant_with_metadata` returns
    it or ``Ckpt.Info.get_metadata()`` gives it) records, and as numpy arrays
    when it records nothing. With ``numpy=None`` (the default) they are
    numpy arrays when numpy can be imported; ``numpy=False`` gives
    :class:`Ckpt.Tensor` instead (torch tensors stay torch tensors);
    ``numpy=True`` requires numpy, and also gives the fixed arrays (``ad``,
    ``ax``, ...) as numpy arrays instead of lists. numpy arrays are read-only
    views of the variant's data (``.copy()`` makes a writable one); torch
    tensors are writable copies. ``None`` maps to ``None``.
    """
    if variant is None:
        return None
    return _from_variant(variant, None, _Decoder(numpy, metadata))


__all__.append('from_variant')


def _variant_type(type):
    if type is None or isinstance(type, GLib.VariantType):
        return type
    if isinstance(type, str):
        if not GLib.VariantType.string_is_valid(type):
            raise ValueError('%r is not a valid GVariant type string' % (type,))
        return GLib.VariantType.new(type)
    raise TypeError('type must be a GLib.VariantType, a type string or None, not %s'
                    % _type_name(type))


def _convert(variant, raw, numpy, metadata):
    if raw:
        return variant
    return from_variant(variant, numpy=numpy, metadata=metadata)


def _root_file(root):
    if isinstance(root, (str, bytes, os.PathLike)):
        return Gio.File.new_for_path(os.fspath(root))
    return root


def _is_round(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _bind_load_args(method, args, kwargs, extra):
    """The arguments of load() / load_async() in either order: the
    override's (round_num, type, cancellable, ...) or the introspected one
    (type, round_num, cancellable, ...). A round is an int; a type is a
    GLib.VariantType, a type string or None, so the first argument decides.
    Returns a dict of the arguments and the rest of args (user_data)."""
    if not args or _is_round(args[0]):
        names = ('round_num', 'type', 'cancellable') + extra
    else:
        names = ('type', 'round_num', 'cancellable') + extra
    bound = dict(zip(names, args))
    rest = args[len(names):]
    if rest and not extra:
        raise TypeError('%s() takes at most %d positional arguments (%d given)'
                        % (method, len(names), len(args)))
    for key, value in kwargs.items():
        if key not in names:
            raise TypeError('%s() got an unexpected keyword argument %r' % (method, key))
        if key in bound:
            raise TypeError('%s() got multiple values for argument %r' % (method, key))
        bound[key] = value
    if 'round_num' not in bound or not _is_round(bound['round_num']):
        raise TypeError('%s() takes (round_num, type=None, cancellable=None%s) or, as '
                        'introspected, (type, round_num, cancellable%s): round_num must be '
                        'an int%s' % (method, ', callback=None, *user_data' if extra else '',
                                      ', callback, *user_data' if extra else '',
                                      '' if 'round_num' not in bound else
                                      ', not %s' % _type_name(bound['round_num'])))
    return bound, rest


def _is_error(error, code):
    return error.matches(Ckpt.error_quark(), code)


class Manager(Ckpt.Manager):
    """A checkpoint manager taking and returning Python values.

    ``Ckpt.Manager(root=..., prefix=..., keep_total=..., keep_first=...,
    durable=...)`` constructs and initialises it (the GInitable ``init()``
    is called, so a bad prefix raises ``GLib.Error`` here). ``root`` may be
    a ``Gio.File`` or a path. ``Ckpt.Manager.new()`` and ``new_for_path()``
    take the same arguments as in C, with ``prefix``, ``keep_total`` and
    ``keep_first`` optional.

    ``save*`` accept any value of the mapping (or a GLib.Variant) and record
    the Python types of its tensors in the checkpoint's header; ``load*``
    return Python values of the types saved, or the GLib.Variant with
    ``raw=True``.
    """

    def __init__(self, **kwargs):
        if 'root' in kwargs:
            kwargs['root'] = _root_file(kwargs['root'])
        super().__init__(**kwargs)
        self.init(None)

    @classmethod
    def new(cls, root, prefix=None, keep_total=Ckpt.MANAGER_DEFAULT_KEEP_TOTAL, keep_first=True):
        return Ckpt.Manager.new(_root_file(root), prefix, keep_total, keep_first)

    @classmethod
    def new_for_path(cls, path, prefix=None, keep_total=Ckpt.MANAGER_DEFAULT_KEEP_TOTAL,
                     keep_first=True):
        return Ckpt.Manager.new_for_path(os.fspath(path), prefix, keep_total, keep_first)

    def _metadata_getter(self, round_num):
        """The header metadata of round_num, read when a tensor needs it."""
        def get():
            try:
                return Ckpt.Manager.query_info(self, round_num, Ckpt.QueryFlags.NONE, None).get_metadata()
            except GLib.Error:
                return None  # gone since it was loaded: no record
        return get

    # Synchronous

    def save(self, value, round_num, cancellable=None):
        """Saves a Python value (or a GLib.Variant) as the checkpoint of round_num."""
        variant, metadata = _encode(value)
        return Ckpt.Manager.save_full(self, variant, round_num, metadata, cancellable)

    def save_full(self, value, round_num, metadata=None, cancellable=None):
        """save() with more header metadata: a dict of GLib.Variant (or an a{sv}
        GLib.Variant); the entry ``python-types`` is the override's."""
        variant, meta = _encode(value)
        return Ckpt.Manager.save_full(self, variant, round_num, _merge_metadata(metadata, meta),
                                      cancellable)

    def load(self, *args, raw=False, numpy=None, **kwargs):
        """load(round_num, type=None, cancellable=None, *, raw=False, numpy=None),
        or in the introspected order load(type, round_num, cancellable): loads the
        checkpoint of round_num; type (a type string or GLib.VariantType) is the
        type the state must have."""
        a, _ = _bind_load_args('load', args, kwargs, ())
        variant = Ckpt.Manager.load(self, _variant_type(a.get('type')), a['round_num'],
                                    a.get('cancellable'))
        return _convert(variant, raw, numpy, self._metadata_getter(a['round_num']))

    def load_latest(self, type=None, cancellable=None, *, raw=False, numpy=None):
        """Returns (value, round) of the newest intact checkpoint, (None, -1) if none."""
        variant, round_num = Ckpt.Manager.load_latest(self, _variant_type(type), cancellable)
        if variant is None:
            return None, -1
        return _convert(variant, raw, numpy, self._metadata_getter(round_num)), round_num

    def load_latest_or_default(self, default, cancellable=None, *, raw=False, numpy=None):
        """Returns (value, round) of the newest intact checkpoint; when there is none,
        saves default as round 0 and returns (default, 0) (default as loaded back)."""
        variant, metadata = _encode(default)
        if metadata is None:
            variant, round_num = Ckpt.Manager.load_latest_or_default(self, variant, cancellable)
            return _convert(variant, raw, numpy, self._metadata_getter(round_num)), round_num
        # With tensors: the same steps as the C function, with the record.
        vtype = variant.get_type()
        loaded, round_num = Ckpt.Manager.load_latest(self, vtype, cancellable)
        if loaded is None:
            try:
                Ckpt.Manager.save_full(self, variant, 0, metadata, cancellable)
                return _convert(variant, raw, numpy, metadata), 0
            except GLib.Error as e:
                if not (_is_error(e, Ckpt.Error.EXISTS) or _is_error(e, Ckpt.Error.SUPERSEDED)):
                    raise
            loaded, round_num = Ckpt.Manager.load_latest(self, vtype, cancellable)
            if loaded is None:
                return None, -1
        return _convert(loaded, raw, numpy, self._metadata_getter(round_num)), round_num

    def list_rounds(self):
        """Returns the rounds of the checkpoints, ascending, as a list of ints."""
        return list(Ckpt.Manager.list_rounds(self))

    # Asynchronous: the conversion to GVariant happens in the call (errors
    # are raised there), the disk work in a worker thread. Each returns what
    # the introspected call returns.

    def save_async(self, value, round_num, cancellable=None, callback=None, *user_data):
        variant, metadata = _encode(value)
        return Ckpt.Manager.save_full_async(self, variant, round_num, metadata, cancellable,
                                            callback, *user_data)

    def save_full_async(self, value, round_num, metadata=None, cancellable=None, callback=None,
                        *user_data):
        variant, meta = _encode(value)
        return Ckpt.Manager.save_full_async(self, variant, round_num,
                                            _merge_metadata(metadata, meta), cancellable,
                                            callback, *user_data)

    def load_async(self, *args, **kwargs):
        """load_async(round_num, type=None, cancellable=None, callback=None, *user_data),
        or in the introspected order load_async(type, round_num, cancellable, callback,
        *user_data)."""
        a, user_data = _bind_load_args('load_async', args, kwargs, ('callback',))
        round_num = a['round_num']
        callback = a.get('callback')
        if callback is not None:
            user_callback = callback

            def callback(source, result, *data):
                _set_note(result, 'round', round_num)
                return user_callback(source, result, *data)

        return Ckpt.Manager.load_async(self, _variant_type(a.get('type')), round_num,
                                       a.get('cancellable'), callback, *user_data)

    def load_finish(self, result, *, raw=False, numpy=None):
        variant = Ckpt.Manager.load_finish(self, result)
        round_num = _get_note(result, 'round')
        metadata = self._metadata_getter(round_num) if round_num is not None else None
        return _convert(variant, raw, numpy, metadata)

    def load_latest_async(self, type=None, cancellable=None, callback=None, *user_data):
        return Ckpt.Manager.load_latest_async(self, _variant_type(type), cancellable,
                                              callback, *user_data)

    def load_latest_finish(self, result, *, raw=False, numpy=None):
        variant, round_num = Ckpt.Manager.load_latest_finish(self, result)
        if variant is None:
            return None, -1
        return _convert(variant, raw, numpy, self._metadata_getter(round_num)), round_num

    def load_latest_or_default_async(self, default, cancellable=None, callback=None,
                                     *user_data):
        variant, metadata = _encode(default)
        if metadata is None or callback is None:
            return Ckpt.Manager.load_latest_or_default_async(self, variant, cancellable,
                                                             callback, *user_data)
        # With tensors: load_latest_async, then save_full_async of the
        # default, then (if another writer came first) load_latest_async
        # again; the callback gets the last result, noted with the outcome.
        vtype = variant.get_type()

        def deliver(result, outcome):
            _set_note(result, 'outcome', outcome)
            callback(self, result, *user_data)

        def on_reloaded(source, result):
            try:
                loaded, round_num = Ckpt.Manager.load_latest_finish(self, result)
            except GLib.Error as e:
                return deliver(result, e)
            deliver(result, (loaded, round_num, None))

        def on_saved(source, result):
            try:
                Ckpt.Manager.save_full_finish(self, result)
            except GLib.Error as e:
                if _is_error(e, Ckpt.Error.EXISTS) or _is_error(e, Ckpt.Error.SUPERSEDED):
                    Ckpt.Manager.load_latest_async(self, vtype, cancellable, on_reloaded)
                    return
                return deliver(result, e)
            deliver(result, (variant, 0, metadata))

        def on_loaded(source, result):
            try:
                loaded, round_num = Ckpt.Manager.load_latest_finish(self, result)
            except GLib.Error as e:
                return deliver(result, e)
            if loaded is not None:
                return deliver(result, (loaded, round_num, None))
            Ckpt.Manager.save_full_async(self, variant, 0, metadata, cancellable, on_saved)

        return Ckpt.Manager.load_latest_async(self, vtype, cancellable, on_loaded)

    def load_latest_or_default_finish(self, result, *, raw=False, numpy=None):
        outcome = _get_note(result, 'outcome')
        if outcome is None:
            variant, round_num = Ckpt.Manager.load_latest_or_default_finish(self, result)
            metadata = self._metadata_getter(round_num)
        elif isinstance(outcome, GLib.Error):
            raise outcome
        else:
            variant, round_num, metadata = outcome
            if variant is None:
                return None, -1
            if metadata is None:
                metadata = self._metadata_getter(round_num)
        return _convert(variant, raw, numpy, metadata), round_num

    def list_rounds_async(self, cancellable=None, callback=None, *user_data):
        return Ckpt.Manager.list_rounds_async(self, cancellable, callback, *user_data)

    def list_rounds_finish(self, result):
        return list(Ckpt.Manager.list_rounds_finish(self, result))


def _merge_metadata(user, ours):
    if user is None:
        return ours
    if isinstance(user, GLib.Variant):
        user = {user.get_child_value(i).get_child_value(0).get_string():
                user.get_child_value(i).get_child_value(1).get_variant()
                for i in range(user.n_children())}
    merged = {k: v if isinstance(v, GLib.Variant) else to_variant(v) for k, v in user.items()}
    merged.pop(_META_KEY, None)
    if ours is not None:
        merged[_META_KEY] = ours.lookup_value(_META_KEY, None)
    return GLib.Variant('a{sv}', merged)


# Notes the override attaches to an async result between the callback and
# the _finish call (the GObject wrapper carries them).

def _set_note(result, key, value):
    try:
        setattr(result, '_ckpt_' + key, value)
    except (AttributeError, TypeError):  # pragma: no cover
        pass


def _get_note(result, key):
    return getattr(result, '_ckpt_' + key, None)


Manager = override(Manager)
__all__.append('Manager')
