"""libvpx's VP8 encoder through ctypes, for a bit rate that changes while it runs.

FFmpeg's libvpx wrapper (PyAV's ``libvpx`` codec) reads the bit rate once, when the encoder
opens; following a bandwidth estimate with it means re-opening the encoder, and every new
encoder starts with a keyframe: on a capped link each retarget then sends a burst the link
cannot carry. libvpx itself takes a new configuration between two frames
(``vpx_codec_enc_config_set``) without a keyframe; this module calls it directly, on the same
libvpx PyAV loads (its wheel's own copy), or the system's.

Only the leading fields of ``vpx_codec_enc_cfg_t`` are declared (they have kept their places
since libvpx 1.7; later releases append); the rest of the structure is reserved space that
``vpx_codec_enc_config_default`` fills. :func:`load` checks the declared fields against
libvpx's documented defaults and refuses a library that does not match, and the caller then
keeps PyAV's encoder.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import logging
import os
import platform
import sys
import threading
from dataclasses import dataclass
from typing import Final

import av

log = logging.getLogger(__name__)

_INVALID_PARAM: Final = 8
_CX_FRAME_PKT: Final = 0
_FRAME_IS_KEY: Final = 0x1
_FORCE_KF: Final = 1
_IMG_FMT_I420: Final = 0x100 | 2
_CBR: Final = 1
_DL_REALTIME: Final = 1

CONTROLS: Final = {
    "cpu-used": 13,  # VP8E_SET_CPUUSED
    "noise-sensitivity": 15,  # VP8E_SET_NOISE_SENSITIVITY
    "static-thresh": 17,  # VP8E_SET_STATIC_THRESHOLD
    "max-intra-rate": 26,  # VP8E_SET_MAX_INTRA_BITRATE_PCT
    "screen-content-mode": 31,  # VP8E_SET_SCREEN_CONTENT_MODE
}
"""libvpx VP8 encoder controls by their FFmpeg option names (``vp8e_enc_control_id``)."""


class _Rational(ctypes.Structure):
    _fields_ = [("num", ctypes.c_int), ("den", ctypes.c_int)]


class _FixedBuf(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_void_p), ("sz", ctypes.c_size_t)]


class EncoderConfig(ctypes.Structure):
    """``vpx_codec_enc_cfg_t``: its leading fields, then room for the rest."""

    _fields_ = [
        ("g_usage", ctypes.c_uint),
        ("g_threads", ctypes.c_uint),
        ("g_profile", ctypes.c_uint),
        ("g_w", ctypes.c_uint),
        ("g_h", ctypes.c_uint),
        ("g_bit_depth", ctypes.c_int),
        ("g_input_bit_depth", ctypes.c_uint),
        ("g_timebase", _Rational),
        ("g_error_resilient", ctypes.c_uint32),
        ("g_pass", ctypes.c_int),
        ("g_lag_in_frames", ctypes.c_uint),
        ("rc_dropframe_thresh", ctypes.c_uint),
        ("rc_resize_allowed", ctypes.c_uint),
        ("rc_scaled_width", ctypes.c_uint),
        ("rc_scaled_height", ctypes.c_uint),
        ("rc_resize_up_thresh", ctypes.c_uint),
        ("rc_resize_down_thresh", ctypes.c_uint),
        ("rc_end_usage", ctypes.c_int),
        ("rc_twopass_stats_in", _FixedBuf),
        ("rc_firstpass_mb_stats_in", _FixedBuf),
        ("rc_target_bitrate", ctypes.c_uint),
        ("rc_min_quantizer", ctypes.c_uint),
        ("rc_max_quantizer", ctypes.c_uint),
        ("rc_undershoot_pct", ctypes.c_uint),
        ("rc_overshoot_pct", ctypes.c_uint),
        ("rc_buf_sz", ctypes.c_uint),
        ("rc_buf_initial_sz", ctypes.c_uint),
        ("rc_buf_optimal_sz", ctypes.c_uint),
        ("rc_2pass_vbr_bias_pct", ctypes.c_uint),
        ("rc_2pass_vbr_minsection_pct", ctypes.c_uint),
        ("rc_2pass_vbr_maxsection_pct", ctypes.c_uint),
        ("rc_2pass_vbr_corpus_complexity", ctypes.c_uint),
        ("kf_mode", ctypes.c_int),
        ("kf_min_dist", ctypes.c_uint),
        ("kf_max_dist", ctypes.c_uint),
        # The layer settings and rate-control factors that follow (504 bytes in all in
        # libvpx 1.12), with room for what later releases add.
        ("_rest", ctypes.c_ubyte * 4096),
    ]


class _Context(ctypes.Structure):
    """``vpx_codec_ctx_t`` (56 bytes on 64-bit systems), treated as opaque."""

    _fields_ = [("_opaque", ctypes.c_void_p * 16)]


class _Image(ctypes.Structure):
    """``vpx_image_t``."""

    _fields_ = [
        ("fmt", ctypes.c_int),
        ("cs", ctypes.c_int),
        ("range", ctypes.c_int),
        ("w", ctypes.c_uint),
        ("h", ctypes.c_uint),
        ("bit_depth", ctypes.c_uint),
        ("d_w", ctypes.c_uint),
        ("d_h", ctypes.c_uint),
        ("r_w", ctypes.c_uint),
        ("r_h", ctypes.c_uint),
        ("x_chroma_shift", ctypes.c_uint),
        ("y_chroma_shift", ctypes.c_uint),
        ("planes", ctypes.c_void_p * 4),
        ("stride", ctypes.c_int * 4),
        ("bps", ctypes.c_int),
        ("user_priv", ctypes.c_void_p),
        ("img_data", ctypes.c_void_p),
        ("img_data_owner", ctypes.c_int),
        ("self_allocd", ctypes.c_int),
        ("fb_priv", ctypes.c_void_p),
    ]


class _FramePacket(ctypes.Structure):
    """The head of ``vpx_codec_cx_pkt_t`` for a compressed frame."""

    _fields_ = [
        ("kind", ctypes.c_int),
        ("buf", ctypes.c_void_p),
        ("sz", ctypes.c_size_t),
        ("pts", ctypes.c_int64),
        ("duration", ctypes.c_ulong),
        ("flags", ctypes.c_uint32),
    ]


class LibvpxError(RuntimeError):
    """libvpx refused a call."""


@dataclass(frozen=True)
class Library:
    """A loaded libvpx with the encoder ABI version it was built with."""

    lib: ctypes.CDLL
    abi: int
    path: str


def _candidates() -> list[str]:
    """Where libvpx may be: PyAV's own copy first (already loaded with av), then the system's."""
    package = os.path.dirname(av.__file__)
    roots = [package + ".libs", os.path.join(package, ".dylibs"), package,
             os.path.dirname(package)]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        roots += [os.path.join(bundle, "av.libs"), os.path.join(bundle, "av", ".dylibs"), bundle]
    found: list[str] = []
    for root in roots:
        for pattern in ("libvpx*.so*", "libvpx*.dylib", "vpx*.dll", "libvpx*.dll"):
            found.extend(sorted(glob.glob(os.path.join(root, pattern))))
    system = ctypes.util.find_library("vpx")
    if system is not None:
        found.append(system)
    return found


def _bind(path: str) -> Library | None:
    try:
        lib = ctypes.CDLL(path)
        lib.vpx_codec_vp8_cx.restype = ctypes.c_void_p
        lib.vpx_codec_vp8_cx.argtypes = []
        lib.vpx_codec_enc_config_default.restype = ctypes.c_int
        lib.vpx_codec_enc_config_default.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(EncoderConfig), ctypes.c_uint]
        lib.vpx_codec_enc_init_ver.restype = ctypes.c_int
        lib.vpx_codec_enc_init_ver.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long, ctypes.c_int]
        lib.vpx_codec_enc_config_set.restype = ctypes.c_int
        lib.vpx_codec_enc_config_set.argtypes = [
            ctypes.POINTER(_Context), ctypes.POINTER(EncoderConfig)]
        lib.vpx_codec_encode.restype = ctypes.c_int
        lib.vpx_codec_encode.argtypes = [
            ctypes.POINTER(_Context), ctypes.POINTER(_Image), ctypes.c_int64, ctypes.c_ulong,
            ctypes.c_long, ctypes.c_ulong]
        lib.vpx_codec_get_cx_data.restype = ctypes.POINTER(_FramePacket)
        lib.vpx_codec_get_cx_data.argtypes = [
            ctypes.POINTER(_Context), ctypes.POINTER(ctypes.c_void_p)]
        lib.vpx_codec_destroy.restype = ctypes.c_int
        lib.vpx_codec_destroy.argtypes = [ctypes.POINTER(_Context)]
        lib.vpx_codec_error_detail.restype = ctypes.c_char_p
        lib.vpx_codec_error_detail.argtypes = [ctypes.POINTER(_Context)]
        lib.vpx_codec_err_to_string.restype = ctypes.c_char_p
        lib.vpx_codec_err_to_string.argtypes = [ctypes.c_int]
        lib.vpx_codec_control_.restype = ctypes.c_int  # variadic: argtypes stay unset
    except (OSError, AttributeError) as exc:
        log.debug("libvpx at %s unusable: %s", path, exc)
        return None
    # The encoder ABI version libvpx was built with: with it (and no context) the call gets as
    # far as its argument check; with any other it stops at the version check.
    iface = lib.vpx_codec_vp8_cx()
    abi = next((v for v in range(1, 256)
                if lib.vpx_codec_enc_init_ver(None, iface, None, 0, v) == _INVALID_PARAM), None)
    if abi is None:
        return None
    defaults = EncoderConfig()
    if lib.vpx_codec_enc_config_default(iface, ctypes.byref(defaults), 0) != 0:
        return None
    # libvpx's VP8 defaults (vp8_cx_iface.c): if these read back elsewhere, the layout above is
    # not this library's.
    if ((defaults.g_w, defaults.g_h, defaults.g_timebase.num, defaults.g_timebase.den,
         defaults.rc_max_quantizer, defaults.kf_max_dist) != (320, 240, 1, 30, 63, 128)):
        log.warning("libvpx at %s has an unexpected configuration layout: not used", path)
        return None
    return Library(lib, abi, path)


_library: Library | None = None
_loaded = False
_loading = threading.Lock()


def load() -> Library | None:
    """The libvpx this process uses for VP8 (found and checked once, whichever thread asks
    first), or None where there is none to call directly (the caller then encodes through
    PyAV)."""
    global _library, _loaded
    with _loading:
        if not _loaded:
            # Variadic calls (vpx_codec_control_) are not portable through ctypes on arm64
            # macOS.
            if not (sys.platform == "darwin" and platform.machine() == "arm64"):
                _library = next((lib for lib in map(_bind, _candidates()) if lib is not None),
                                None)
            _loaded = True
            if _library is not None:
                log.info("VP8 through %s (encoder ABI %d)", _library.path, _library.abi)
    return _library


@dataclass(frozen=True)
class EncoderSetup:
    """What one encoder is opened with (the rate-independent part of its configuration)."""

    width: int
    height: int
    threads: int
    framerate: int
    qmin: int
    qmax: int
    undershoot_pct: int
    overshoot_pct: int
    controls: dict[int, int]
    """libvpx control id -> value."""


class Encoder:
    """One libvpx VP8 encoder: realtime CBR, keyframes only when asked.

    :meth:`encode` and :meth:`set_bitrate` must be called from one thread at a time.
    """

    def __init__(self, library: Library, setup: EncoderSetup, bitrate: int) -> None:
        self._lib = library.lib
        self.setup = setup
        self.bitrate = bitrate
        cfg = self._cfg = EncoderConfig()
        iface = self._lib.vpx_codec_vp8_cx()
        self._check(self._lib.vpx_codec_enc_config_default(iface, ctypes.byref(cfg), 0),
                    "config_default")
        cfg.g_w, cfg.g_h = setup.width, setup.height
        cfg.g_threads = setup.threads
        cfg.g_timebase.num, cfg.g_timebase.den = 1, 90_000
        cfg.g_lag_in_frames = 0
        cfg.g_error_resilient = 0
        cfg.g_pass = 0
        cfg.rc_dropframe_thresh = 0
        cfg.rc_end_usage = _CBR
        cfg.rc_target_bitrate = _kbit(bitrate)
        cfg.rc_min_quantizer, cfg.rc_max_quantizer = setup.qmin, setup.qmax
        cfg.rc_undershoot_pct, cfg.rc_overshoot_pct = setup.undershoot_pct, setup.overshoot_pct
        # As FFmpeg sets them for bufsize = bit rate (what PyAV's encoder ran with, so both
        # paths encode alike, byte for byte): a one-second buffer, 3/4 of it full at the
        # start (FFmpeg's default occupancy), 5/6 of it optimal.
        cfg.rc_buf_sz = 1000
        cfg.rc_buf_initial_sz = 1000 * 3 // 4
        cfg.rc_buf_optimal_sz = 1000 * 5 // 6
        # Automatic keyframes no more often than every 3000 frames (FFmpeg's gop_size as
        # set before): in practice keyframes come on request.
        cfg.kf_mode, cfg.kf_max_dist = 1, 3000
        self._ctx = _Context()
        self._check(self._lib.vpx_codec_enc_init_ver(
            ctypes.byref(self._ctx), iface, ctypes.byref(cfg), 0, library.abi), "init")
        self._open = True
        for control, value in setup.controls.items():
            self._check(self._lib.vpx_codec_control_(
                ctypes.byref(self._ctx), ctypes.c_int(control), ctypes.c_int(value)),
                f"control {control}")
        self._image = _Image()
        self._duration = 90_000 // max(1, setup.framerate)

    def set_bitrate(self, bitrate: int) -> None:
        """Change the target between two frames (no keyframe)."""
        if bitrate == self.bitrate:
            return
        self._cfg.rc_target_bitrate = _kbit(bitrate)
        self._check(self._lib.vpx_codec_enc_config_set(
            ctypes.byref(self._ctx), ctypes.byref(self._cfg)), "config_set")
        self.bitrate = bitrate

    def encode(self, frame: av.VideoFrame, pts: int, keyframe: bool) -> list[tuple[bytes, bool]]:
        """Encode a yuv420p ``frame`` of the encoder's size at ``pts`` (1/90000 s): the
        compressed frames, each with whether it is a keyframe."""
        image = self._image
        image.fmt = _IMG_FMT_I420
        image.w = image.d_w = image.r_w = frame.width
        image.h = image.d_h = image.r_h = frame.height
        image.bit_depth = 8
        image.x_chroma_shift = image.y_chroma_shift = 1
        for i, plane in enumerate(frame.planes[:3]):
            image.planes[i] = plane.buffer_ptr
            image.stride[i] = plane.line_size
        self._check(self._lib.vpx_codec_encode(
            ctypes.byref(self._ctx), ctypes.byref(image), pts, self._duration,
            _FORCE_KF if keyframe else 0, _DL_REALTIME), "encode")
        out: list[tuple[bytes, bool]] = []
        cursor = ctypes.c_void_p()
        while True:
            packet = self._lib.vpx_codec_get_cx_data(ctypes.byref(self._ctx),
                                                     ctypes.byref(cursor))
            if not packet:
                return out
            head = packet.contents
            if head.kind == _CX_FRAME_PKT:
                out.append((ctypes.string_at(head.buf, head.sz),
                            bool(head.flags & _FRAME_IS_KEY)))

    def close(self) -> None:
        """Free the encoder (also done when it is collected)."""
        if self._open:
            self._open = False
            self._lib.vpx_codec_destroy(ctypes.byref(self._ctx))

    def __del__(self) -> None:
        if getattr(self, "_open", False):
            self.close()

    def _check(self, status: int, what: str) -> None:
        if status != 0:
            reason = self._lib.vpx_codec_err_to_string(status) or b"?"
            detail = b""
            if getattr(self, "_open", False):
                detail = self._lib.vpx_codec_error_detail(ctypes.byref(self._ctx)) or b""
            raise LibvpxError(f"libvpx {what} failed: {reason.decode()} {detail.decode()}".strip())


def _kbit(bitrate: int) -> int:
    return max(1, round(bitrate / 1000))
