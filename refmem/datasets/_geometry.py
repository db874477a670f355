"""Parameter tables of the Shapes3D-like renderer's versions (camera, room, object sizes, lights).

:mod:`refmem.datasets._raycast` casts a scene with one :class:`Geometry`; the renderer's
versions are :data:`GEOMETRIES` (``{version: Geometry}``), and
:data:`refmem.datasets.shapes3d.RENDERER_VERSION` names the default one. A version's
parameters never change once published: a new look is a new version, so images cached or
recorded with a version stay reproducible.

Frames and symbols are those of :mod:`refmem.datasets._raycast`: the camera sits at
``(0, cam_h, -cam_dist)`` looking along +z, pitched down by ``pitch_deg``; the object
stands on the floor y = 0 with its axis through the origin, radius ``r = radius_per_scale
* scale``; the room is the square ``x, z in [-room_half, room_half]`` with walls
``wall_h`` high (sky above).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

__all__ = ["Geometry", "GEOMETRIES"]


@dataclass(frozen=True)
class Geometry:
    """One renderer version's scene parameters (units: a scale-1 v1 object is 1 unit wide).

    Attributes
    ----------
    focal_px_64 : float
        Focal length in pixels of a 64-px image (field of view ``2 atan(32 / f)``).
    cam_dist, cam_h, pitch_deg : float
        Camera distance from the object's axis, height above the floor, downward pitch.
    room_half, wall_h : float
        Half side of the square room and wall height (open top: sky above).
    room_turn : float
        How far the orientation turns the room with the object: 1, the room turns as far as
        the object (the camera circles the object in a fixed room); 0, the object turns alone.
    room_yaw_deg, object_yaw_deg : float
        Constant turns of the room and of the object about the object's axis, added to
        the orientation's (room 45: the camera looks into a corner at orientation 0;
        object 45: a cube shows an edge at orientation 0).
    radius_per_scale, scale_range : float
        Object radius ``r = radius_per_scale * (1 + scale_range * (scale - 1))``: the size at
        scale 1, and how widely the sizes spread around it (1: proportional to the scale).
    capsule_half_body : float
        Half length of the capsule's cylindrical body in units of r (height ``(2 + 2h) r``).
    lamp, spot_target : (3,) tuples
        Spot lamp position and the point it is aimed at, camera frame.
    spot_exp : int
        Exponent of the spot's cosine falloff.
    room_light, object_light : (3,) tuples
        ``(ambient, headlight, lamp)`` coefficients of floor and walls, and of the object.
    """

    focal_px_64: float
    cam_dist: float
    cam_h: float
    pitch_deg: float
    room_half: float
    wall_h: float
    room_turn: float = 1.0
    room_yaw_deg: float = 0.0
    object_yaw_deg: float = 0.0
    radius_per_scale: float = 0.5
    scale_range: float = 1.0
    capsule_half_body: float = 1.0
    lamp: Tuple[float, float, float] = (-1.7, 5.0, -1.3)
    spot_target: Tuple[float, float, float] = (-0.3, 0.0, -0.6)
    spot_exp: int = 4
    room_light: Tuple[float, float, float] = (0.30, 0.62, 1.05)
    object_light: Tuple[float, float, float] = (0.58, 0.38, 0.60)

    @property
    def forward(self) -> Tuple[float, float, float]:
        """Unit camera axis (the headlight shines along it)."""
        p = np.deg2rad(self.pitch_deg)
        return (0.0, -np.sin(p), np.cos(p))

    @property
    def up(self) -> Tuple[float, float, float]:
        """Unit camera up vector."""
        p = np.deg2rad(self.pitch_deg)
        return (0.0, np.cos(p), np.sin(p))

    @property
    def spot_axis(self) -> Tuple[float, float, float]:
        """Unit direction from the lamp to its target."""
        a = np.subtract(self.spot_target, self.lamp)
        return tuple(a / np.linalg.norm(a))


#: the renderer's versions; never edit a published entry (add a version instead)
GEOMETRIES: Dict[int, Geometry] = {
    # 1: fitted to the example images of the 3dshapes notebook (docs/datasets-shapes3d.md)
    1: Geometry(focal_px_64=71.5, cam_dist=3.2, cam_h=1.05, pitch_deg=1.5, room_half=3.9, wall_h=2.5),
    # 2: fitted with the renderer critic (refmem.benchmarks.renderer_critic): the paper's VAE, trained on
    # the real images, reconstructs these renders best and separates their shapes best. The background
    # no longer turns with the orientation (the VAE draws no room corners and a level wall at every
    # orientation), the camera sees the wall top at row ~17 and the floor line at row ~41 as in its
    # reconstructions, object sizes spread 0.75x as widely (widths ~16-25 px), capsules are 2.15:1,
    # and the lamp and spot are moved so shading and shadows match (docs/datasets-shapes3d.md).
    2: Geometry(focal_px_64=62.0, cam_dist=3.2, cam_h=1.2, pitch_deg=2.0, room_half=3.9, wall_h=2.6,
                room_turn=0.0, radius_per_scale=0.5, scale_range=0.75, capsule_half_body=1.15,
                lamp=(-1.0, 5.0, -0.7), spot_target=(-1.3, 0.0, 0.4), room_light=(0.24, 0.62, 1.05),
                object_light=(0.58, 0.38, 1.0)),
    # 3: version 2 refitted with the critic over camera, sizes and object light, held to the measured
    # proportions where the critic is indifferent: a slightly wider view (focal 60), objects 4% larger
    # at scale 1 whose sizes spread 0.65x as widely (widths ~17-26 px), the object turned 7.5 degrees
    # at orientation 0 (a cube shows a narrow side face), and less ambient light on the object so
    # its faces differ more. Capsules stay 2.15:1 and the back wall stays level.
    3: Geometry(focal_px_64=60.0, cam_dist=3.2, cam_h=1.2, pitch_deg=2.0, room_half=3.9, wall_h=2.6,
                room_turn=0.0, object_yaw_deg=7.5, radius_per_scale=0.52, scale_range=0.65,
                capsule_half_body=1.15, lamp=(-1.0, 5.0, -0.7), spot_target=(-1.3, 0.0, 0.4),
                room_light=(0.24, 0.62, 1.05), object_light=(0.46, 0.38, 1.0)),
}
