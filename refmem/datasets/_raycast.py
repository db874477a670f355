"""Vectorised NumPy ray caster for the Shapes3D-like scenes (docs/datasets-shapes3d.md).

This private module computes the *geometry* of a scene: for every (super-sampled)
pixel, which surface the primary ray hits (floor, wall, object or sky) and the light
intensity there. Colour is applied afterwards by :mod:`refmem.datasets.shapes3d`,
because the geometry depends only on (shape, scale, orientation), while the three hues
only colour the surfaces: colour = HSV(hue, 1, 1) * intensity, clipped to [0, 1].

Frames
------
*Camera frame* C: the camera sits at ``E = (0, cam_h, -cam_dist)`` looking along +z,
pitched down by ``pitch_deg``; y is up; the object stands on the floor y = 0 with its
vertical axis through the origin. Both lights are fixed in this frame.
*Room frame* R: the room and the object, turned by the orientation theta about the y axis
(``x_C = c x_R - s z_R``, ``z_C = s x_R + c z_R`` with ``c, s = cos theta, sin theta``).
Walls and the object are axis-aligned in R; floor, bounding spheres and lights are
rotation invariant or live in C. Vectors are ``(x, y, z)`` tuples of flat float32 arrays
(about 3x faster than ``(N, 3)`` arrays).

Symbols: ``E`` camera position, ``d`` unit ray direction, ``t`` ray parameter
(hit ``p = o + t d``), ``n`` unit surface normal, ``l`` unit direction to the lamp,
``a`` unit spot axis, ``r = radius_per_scale * scale`` the object radius. The numbers
(camera, room, object sizes, lights) are those of a :class:`~refmem.datasets._geometry.Geometry`,
one per renderer version (:data:`~refmem.datasets._geometry.GEOMETRIES`); every function
that needs them takes it as ``g``.
"""
from __future__ import annotations

import functools

import numpy as np

from refmem.datasets._geometry import GEOMETRIES, Geometry

__all__ = ["cast", "camera_rays", "KIND_FLOOR", "KIND_WALL", "KIND_OBJECT", "KIND_SKY"]

F32 = np.float32
KIND_FLOOR, KIND_WALL, KIND_OBJECT, KIND_SKY = 0, 1, 2, 3
EPS = 1e-4                    # minimum t of a hit (avoids self-intersection of shadow rays)


def _norm3(x, y, z):
    inv = F32(1.0) / np.sqrt(x * x + y * y + z * z)
    return x * inv, y * inv, z * inv


@functools.lru_cache(maxsize=8)
def camera_rays(image_size: int, supersample: int, g: Geometry = GEOMETRIES[1]):
    """Unit primary-ray directions of the pinhole camera of ``g``, camera frame.

    Returns
    -------
    d : tuple of three (P,) float32 arrays, P = (image_size * supersample)**2, row-major
        (row 0 at the top).
    """
    n = image_size * supersample
    f = g.focal_px_64 * image_size / 64.0 * supersample
    up, forward = g.up, g.forward
    c = (np.arange(n, dtype=np.float64) + 0.5 - n / 2.0) / f
    u = np.tile(c, n)                 # column offset, (P,)
    v = -np.repeat(c, n)              # row offset (up is +), (P,)
    dx = u                            # d = u * right + v * up + forward
    dy = v * up[1] + forward[1]
    dz = v * up[2] + forward[2]
    out = tuple(a.astype(F32) for a in _norm3(dx, dy, dz))
    for a in out:
        a.setflags(write=False)
    return out


def _lamp_terms(px, py, pz, nx, ny, nz, k, g):
    """Ambient + headlight and lamp intensity at surface points, camera frame.

    ``I = k_a + k_h max(0, n . (-forward)) + k_l max(0, n . l) max(0, -l . a)^4 * visible``;
    returns ``(base, lamp, lx, ly, lz)`` where ``base`` holds the first two terms, ``lamp``
    the unshadowed third term, and ``l`` the unit direction to the lamp.
    """
    ka, kh, kl = (F32(v) for v in k)
    fw, lp, ax = g.forward, g.lamp, g.spot_axis
    head = -(nx * F32(fw[0]) + ny * F32(fw[1]) + nz * F32(fw[2]))
    base = ka + kh * np.maximum(head, F32(0))                    # k_a + k_h max(0, n.h)
    lx, ly, lz = _norm3(F32(lp[0]) - px, F32(lp[1]) - py, F32(lp[2]) - pz)
    ndl = np.maximum(nx * lx + ny * ly + nz * lz, F32(0))
    spot = np.maximum(-(lx * F32(ax[0]) + ly * F32(ax[1]) + lz * F32(ax[2])), F32(0))
    lamp = kl * ndl * spot ** g.spot_exp                         # k_l max(0, n.l) cos^4
    return base, lamp, lx, ly, lz


# ----------------------------------------------------------------- object intersections (room frame)
def _bound_sphere(shape, r, h):
    """Centre height and radius of a sphere enclosing the object (rotation invariant);
    ``h`` is the capsule's half body length in units of r."""
    k = F32(1.0 + h)                                             # capsule: centre and radius (1 + h) r
    cy = np.where(shape == 3, k * r, r).astype(F32)
    rad = np.choose(shape, [r * np.sqrt(3), r * np.sqrt(2), r, k * r]).astype(F32) * F32(1.001)
    return cy, rad


def _sphere(ox, oy, oz, dx, dy, dz, cy, r):
    """Nearest entry of rays into spheres of radius r centred at (0, cy, 0) (inf: miss)."""
    qy = oy - cy
    b = ox * dx + qy * dy + oz * dz
    disc = b * b - (ox * ox + qy * qy + oz * oz - r * r)        # |o + t d - c|^2 = r^2
    with np.errstate(invalid="ignore"):
        t = -b - np.sqrt(disc)
    return np.where((disc >= 0) & (t > EPS), t, F32(np.inf))


def _fin(t):
    """t with misses (inf) replaced by 0, so normals of missing rays stay finite."""
    return np.where(np.isfinite(t), t, F32(0))


def _meets_sphere(ox, oy, oz, dx, dy, dz, cy, r):
    """True where a ray (origin inside or outside) meets the sphere at some t > 0 (prefilter)."""
    qy = oy - cy
    b = ox * dx + qy * dy + oz * dz
    disc = b * b - (ox * ox + qy * qy + oz * oz - r * r)
    return (disc >= 0) & ((b < 0) | (b * b < disc))                # exit -b + sqrt(disc) > 0


def _hit_sphere(o, d, r, h):
    t = _sphere(*o, *d, r, r)
    tf, inv = _fin(t), F32(1) / r
    n = ((o[0] + tf * d[0]) * inv, (o[1] + tf * d[1] - r) * inv, (o[2] + tf * d[2]) * inv)
    return t, n


def _side(ox, oz, dx, dz, r):
    """Entry t of rays into the infinite vertical cylinder x^2 + z^2 = r^2 (inf: miss)."""
    a = dx * dx + dz * dz
    b = ox * dx + oz * dz
    disc = b * b - a * (ox * ox + oz * oz - r * r)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (-b - np.sqrt(disc)) / a
    return np.where((disc >= 0) & (a > 0) & (t > EPS), t, F32(np.inf))


def _hit_cylinder(o, d, r, h):
    ox, oy, oz = o
    dx, dy, dz = d
    t_side = _side(ox, oz, dx, dz, r)
    y_side = oy + t_side * dy
    t_side = np.where((y_side >= 0) & (y_side <= 2 * r), t_side, F32(np.inf))
    with np.errstate(invalid="ignore", divide="ignore"):
        t_top = (2 * r - oy) / dy                                # top cap y = 2r
    xt, zt = ox + t_top * dx, oz + t_top * dz
    t_top = np.where((t_top > EPS) & (xt * xt + zt * zt <= r * r), t_top, F32(np.inf))
    top = t_top < t_side
    t = np.minimum(t_side, t_top)
    tf, inv = _fin(t), F32(1) / r
    nx = np.where(top, F32(0), (ox + tf * dx) * inv)
    nz = np.where(top, F32(0), (oz + tf * dz) * inv)
    return t, (nx, top.astype(F32), nz)


def _hit_capsule(o, d, r, h):
    ox, oy, oz = o
    dx, dy, dz = d
    top = F32(1.0 + 2.0 * h) * r                                 # centre of the upper hemisphere
    t_side = _side(ox, oz, dx, dz, r)                            # body r <= y <= (1 + 2h) r
    y_side = oy + t_side * dy
    t_side = np.where((y_side >= r) & (y_side <= top), t_side, F32(np.inf))
    t_lo = _sphere(ox, oy, oz, dx, dy, dz, r, r)                 # hemispheres (full spheres suffice:
    t_hi = _sphere(ox, oy, oz, dx, dy, dz, top, r)               # the capsule is convex)
    t = np.minimum(t_side, np.minimum(t_lo, t_hi))
    tf, inv = _fin(t), F32(1) / r
    py = oy + tf * dy
    cy = np.clip(py, r, top)                                     # nearest point on the axis segment
    return t, ((ox + tf * dx) * inv, (py - cy) * inv, (oz + tf * dz) * inv)


def _hit_cube(o, d, r, h):
    t0 = np.full(o[0].shape, -np.inf, F32)
    t1 = np.full(o[0].shape, np.inf, F32)
    axis = np.zeros(o[0].shape, np.int8)
    sign = np.zeros(o[0].shape, F32)
    for k, (lo, hi) in enumerate(((-r, r), (F32(0) * r, 2 * r), (-r, r))):
        dk = np.where(d[k] == 0, F32(1e-12), d[k])
        inv = F32(1) / dk
        ta, tb = (lo - o[k]) * inv, (hi - o[k]) * inv           # slab test
        near, far = np.minimum(ta, tb), np.maximum(ta, tb)
        upd = near > t0
        axis = np.where(upd, np.int8(k), axis)
        sign = np.where(upd, -np.sign(dk), sign)
        t0, t1 = np.maximum(t0, near), np.minimum(t1, far)
    t = np.where((t0 <= t1) & (t0 > EPS), t0, F32(np.inf))
    n = tuple(np.where(axis == k, sign, F32(0)) for k in range(3))
    return t, n


_HIT = (_hit_cube, _hit_cylinder, _hit_sphere, _hit_capsule)


def _rotate(x, z, c, s):
    """Rotate (x, z) by theta: camera -> room uses (c, s) = (cos, -sin), room -> camera (cos, sin)."""
    return c * x - s * z, s * x + c * z


def _object_hits(ox, oy, oz, dx, dy, dz, c, s, shape, r, h):
    """Exact object hits of rays given in the camera frame (flat arrays, one entry a ray).

    ``c, s, shape, r`` are per-ray image parameters, ``h`` the capsule's half body length
    in units of r. Returns t (inf: miss) and the unit normal in the camera frame.
    """
    oxr, ozr = _rotate(ox, oz, c, -s)
    dxr, dzr = _rotate(dx, dz, c, -s)
    t = np.full(ox.shape, np.inf, F32)
    nxr, ny, nzr = (np.zeros(ox.shape, F32) for _ in range(3))
    for k in range(4):
        m = np.flatnonzero(shape == k)
        if not m.size:
            continue
        tk, nk = _HIT[k]((oxr[m], oy[m], ozr[m]), (dxr[m], dy[m], dzr[m]), r[m], h)
        t[m] = tk
        nxr[m], ny[m], nzr[m] = nk
    nx, nz = _rotate(nxr, nzr, c, s)
    return t, (nx, ny, nz)


def _shadowed(px, py, pz, lx, ly, lz, cy, rad, c, s, shape, r, h):
    """True where the ray from p towards the lamp hits the object (bounding-sphere prefilter)."""
    hit = _meets_sphere(px, py, pz, lx, ly, lz, cy, rad)
    out = np.zeros(px.shape, bool)
    m = np.flatnonzero(hit)
    if m.size:
        t, _ = _object_hits(px[m], py[m], pz[m], lx[m], ly[m], lz[m], c[m], s[m], shape[m], r[m], h)
        out[m] = np.isfinite(t)                                  # the lamp is above every object
    return out


# ----------------------------------------------------------------- floor (independent of the factors)
@functools.lru_cache(maxsize=8)
def _floor(image_size: int, supersample: int, g: Geometry):
    """Floor hit, lighting and shadow-ray directions per pixel (camera frame, (P,) arrays)."""
    dx, dy, dz = camera_rays(image_size, supersample, g)
    with np.errstate(divide="ignore"):
        t = np.where(dy < 0, F32(-g.cam_h) / dy, F32(np.inf))   # plane y = 0
    px, pz = t * dx, F32(-g.cam_dist) + t * dz
    px, pz = np.where(np.isfinite(t), px, 0), np.where(np.isfinite(t), pz, 0)
    zero, one = np.zeros_like(px), np.ones_like(px)
    base, lamp, lx, ly, lz = _lamp_terms(px, zero, pz, zero, one, zero, g.room_light, g)
    out = dict(t=t, px=px, pz=pz, base=base, lamp=lamp, lx=lx, ly=ly, lz=lz)
    for a in out.values():
        a.setflags(write=False)
    return out


@functools.lru_cache(maxsize=128)
def _zones(image_size: int, supersample: int, shape: int, r: float, g: Geometry):
    """Pixels that may show the object, and pixels whose floor point may be in its shadow.

    Both tests use the object's bounding sphere, which is rotation invariant (centred on
    the vertical axis), so they depend on (shape, r) only and are cached.

    Returns
    -------
    view, shadow : (k,) and (m,) int64 ndarrays of pixel indices
    """
    dx, dy, dz = camera_rays(image_size, supersample, g)
    fl = _floor(image_size, supersample, g)
    cy, rad = _bound_sphere(np.array([shape]), np.array([r], F32), g.capsule_half_body)
    P = dx.size
    view = _meets_sphere(F32(0), F32(g.cam_h), F32(-g.cam_dist), dx, dy, dz, cy, rad)
    shadow = _meets_sphere(fl["px"], np.full(P, EPS, F32), fl["pz"], fl["lx"], fl["ly"], fl["lz"], cy, rad)
    shadow &= np.isfinite(fl["t"]) & (fl["lamp"] > 0)
    out = np.flatnonzero(view), np.flatnonzero(shadow)
    for a in out:
        a.setflags(write=False)
    return out


def _zone_indices(shape, r, P, image_size, supersample, which, g):
    """Flat (image * P + pixel) indices of the cached zone ``which`` (0 view, 1 shadow)."""
    keys = np.stack([shape.astype(F32), r])
    out = []
    for k in np.unique(keys, axis=1).T:
        imgs = np.flatnonzero((shape == int(k[0])) & (r == k[1]))
        zone = _zones(image_size, supersample, int(k[0]), float(k[1]), g)[which]
        out.append((imgs[:, None] * P + zone).ravel())
    return np.concatenate(out)


def cast(shape, scale, orientation_deg, image_size: int = 64, supersample: int = 2, g: Geometry = GEOMETRIES[1]):
    r"""Ray-cast a batch of scene geometries.

    Parameters
    ----------
    shape : (B,) int ndarray
        0 cube, 1 cylinder, 2 sphere, 3 capsule.
    scale : (B,) float ndarray
        Object scale s; the object radius is ``r = 0.5 s``.
    orientation_deg : (B,) float ndarray
        Turn theta of room and object about the vertical axis through the object.
    image_size, supersample : int
        The image is cast at ``image_size * supersample`` pixels per side.
    g : Geometry
        Camera, room, object sizes and lights (a renderer version's, default version 1).

    Returns
    -------
    kind : (B, P) uint8 ndarray
        ``KIND_FLOOR``, ``KIND_WALL``, ``KIND_OBJECT`` or ``KIND_SKY`` per pixel.
    intensity : (B, P) float32 ndarray
        Light intensity (1 for sky); colour = HSV(hue, 1, 1) * intensity, clipped.

    Notes
    -----
    Steps: (1) primary rays of a pinhole camera, (2) nearest hit among
    floor y = 0, walls x, z = +-L (sky above ``g.wall_h``) and the object (exact per shape,
    after a bounding-sphere prefilter), (3) shading

    .. math:: I = k_a + k_h \max(0, n \cdot h) + k_l \max(0, n \cdot l)\,
              \max(0, -l \cdot a)^4 \, v

    with the headlight direction ``h = -forward``, the lamp direction ``l``, the spot
    axis ``a`` and ``v`` = 0 where (4) the ray from a floor or wall point to the lamp hits
    the object (shadow), else 1; ``(k_a, k_h, k_l)`` are ``g.room_light`` or ``g.object_light``.
    """
    shape = np.asarray(shape, np.int64)
    sc = np.asarray(scale, np.float64)
    if g.scale_range != 1.0:
        sc = 1.0 + g.scale_range * (sc - 1.0)                  # sizes spread less (or more) around scale 1
    r = (g.radius_per_scale * sc).astype(F32)
    h = g.capsule_half_body
    th = np.deg2rad(np.asarray(orientation_deg, np.float64))
    tho = th + np.deg2rad(g.object_yaw_deg) if g.object_yaw_deg != 0 else th  # the object's turn
    c, s = np.cos(tho).astype(F32)[:, None], np.sin(tho).astype(F32)[:, None]  # (B, 1)
    dx, dy, dz = camera_rays(image_size, supersample, g)                      # (P,)
    P = dx.shape[0]
    fl = _floor(image_size, supersample, g)
    cam_h, cam_dist = F32(g.cam_h), F32(-g.cam_dist)

    # walls, room frame: exit of the square x, z in [-L, L] (camera inside the room)
    if g.room_turn == 1 and g.room_yaw_deg == 0 and g.object_yaw_deg == 0:
        cw, sw = c, s                                                         # the room turns with the object
    else:                                                                     # the room's own turn
        thw = g.room_turn * th + np.deg2rad(g.room_yaw_deg)
        cw, sw = np.cos(thw).astype(F32)[:, None], np.sin(thw).astype(F32)[:, None]
    ex, ez = _rotate(F32(0), cam_dist, cw, -sw)                              # E in R, (B, 1)
    dxr, dzr = _rotate(dx, dz, cw, -sw)                                       # (B, P)
    L = F32(g.room_half)
    with np.errstate(divide="ignore"):
        tx = (np.copysign(L, dxr) - ex) / dxr                                  # plane x = +-L
        tz = (np.copysign(L, dzr) - ez) / dzr                                  # plane z = +-L
    xwall = tx < tz
    tw = np.minimum(tx, tz)
    floor = fl["t"] < tw
    kind = np.where(floor, np.uint8(KIND_FLOOR),
                    np.where(cam_h + tw * dy > F32(g.wall_h), np.uint8(KIND_SKY), np.uint8(KIND_WALL)))
    t_env = np.where(floor, fl["t"], tw)

    # object: bounding-sphere prefilter in the camera frame, exact test in the room frame
    cy, rad = _bound_sphere(shape, r, h)
    ox = np.zeros(P, F32)
    oy, oz = np.full(P, g.cam_h, F32), np.full(P, -g.cam_dist, F32)
    cand = _zone_indices(shape, r, P, image_size, supersample, 0, g)
    bi, pi = np.divmod(cand, P)                                  # flat index -> (image, pixel)
    t_obj, n_obj = _object_hits(ox[pi], oy[pi], oz[pi], dx[pi], dy[pi], dz[pi],
                                c[bi, 0], s[bi, 0], shape[bi], r[bi], h)
    front = t_obj < t_env.ravel()[cand]
    fo, po, t_o = cand[front], pi[front], t_obj[front]
    kind_f = kind.reshape(-1)
    kind_f[fo] = KIND_OBJECT

    # floor: precomputed lighting; the lamp term is removed where the object blocks the lamp,
    # tested only where the shadow ray meets the object's bounding sphere
    intensity = np.where(kind == KIND_FLOOR, fl["base"] + fl["lamp"], F32(1))  # sky: 1
    int_f = intensity.reshape(-1)
    f = _zone_indices(shape, r, P, image_size, supersample, 1, g)
    f = f[kind_f[f] == KIND_FLOOR]
    b, p = np.divmod(f, P)
    sh = _shadowed(fl["px"][p], np.full(p.size, EPS, F32), fl["pz"][p], fl["lx"][p], fl["ly"][p],
                   fl["lz"][p], cy[b], rad[b], c[b, 0], s[b, 0], shape[b], r[b], h)
    int_f[f[sh]] -= fl["lamp"][p[sh]]

    # walls: normal -(sign d) along the hit axis in R, rotated back to C
    fw = np.flatnonzero(kind_f == KIND_WALL)
    wb, wp = np.divmod(fw, P)
    t = tw.ravel()[fw]
    px, py, pz = t * dx[wp], cam_h + t * dy[wp], cam_dist + t * dz[wp]
    xw = xwall.ravel()[fw]
    nxr = np.where(xw, -np.sign(dxr.ravel()[fw]), F32(0))
    nzr = np.where(xw, F32(0), -np.sign(dzr.ravel()[fw]))
    nx, nz = _rotate(nxr, nzr, cw[wb, 0], sw[wb, 0])
    base, lamp, lx, ly, lz = _lamp_terms(px, py, pz, nx, np.zeros_like(nx), nz, g.room_light, g)
    k = np.flatnonzero(lamp > 0)
    sh = _shadowed(px[k], py[k], pz[k], lx[k], ly[k], lz[k], cy[wb[k]], rad[wb[k]],
                   c[wb[k], 0], s[wb[k], 0], shape[wb[k]], r[wb[k]], h)
    lamp[k[sh]] = 0
    int_f[fw] = base + lamp

    # object: its own material; no self-shadowing beyond the Lambert cut-off
    n = tuple(a[front] for a in n_obj)
    p = (t_o * dx[po], cam_h + t_o * dy[po], cam_dist + t_o * dz[po])
    base, lamp, *_ = _lamp_terms(*p, *n, g.object_light, g)
    int_f[fo] = base + lamp
    return kind, intensity
