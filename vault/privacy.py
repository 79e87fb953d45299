"""Privacy filters applied before any location leaves the vault.

Fixed-radius zones leak their centre: intersect where many tracks disappear and the
hidden home is found (USENIX Security 2018, on Strava's zones). So each zone here is
shared through an *effective* zone that (1) always covers the person's zone, (2) has
its centre displaced by 25-60% of the radius in a random direction and (3) has an
irregular edge. The randomness is derived from the person's key and the zone's id:
stable, so repeated queries do not average it away, and unknown to partners.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from typing import Protocol

METRES_PER_DEGREE_LAT = 110_574.0
METRES_PER_DEGREE_LON_AT_EQUATOR = 111_320.0
COARSE_CELL_DEGREES = 0.01  # ≈ 1.1 km north-south; lon cells narrow towards the poles


class HasLatLon(Protocol):
    lat: float
    lon: float


@dataclass(frozen=True)
class Zone:
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class EffectiveZone:
    """The zone as applied: displaced centre, base radius, and edge harmonics."""

    lat: float
    lon: float
    base_radius_m: float
    # (amplitude in metres >= 0, frequency, phase): the edge bulges outward, never in.
    harmonics: tuple[tuple[float, int, float], ...]

    @property
    def max_radius_m(self) -> float:
        return self.base_radius_m + sum(2 * amplitude for amplitude, _, _ in self.harmonics)

    def radius_towards(self, bearing: float) -> float:
        return self.base_radius_m + sum(
            amplitude * (1 + math.sin(frequency * bearing + phase)) for amplitude, frequency, phase in self.harmonics
        )

    def contains(self, lat: float, lon: float) -> bool:
        east, north = offset_metres(self.lat, self.lon, lat, lon)
        distance_squared = east * east + north * north
        if distance_squared > self.max_radius_m**2:
            return False
        return math.sqrt(distance_squared) < self.radius_towards(math.atan2(north, east))


def offset_metres(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """(east, north) metres from (lat0, lon0); equirectangular, exact enough at zone scale."""
    east = (lon - lon0) * METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(lat0))
    north = (lat - lat0) * METRES_PER_DEGREE_LAT
    return east, north


def move(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    new_lat = lat + north_m / METRES_PER_DEGREE_LAT
    new_lon = lon + east_m / (METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(lat)))
    return new_lat, new_lon


def _uniforms(secret: bytes, label: bytes, count: int) -> list[float]:
    digest = b""
    counter = 0
    while len(digest) < 4 * count:
        digest += hmac.new(secret, label + counter.to_bytes(4, "big"), sha256).digest()
        counter += 1
    return [int.from_bytes(digest[4 * i : 4 * i + 4], "big") / 2**32 for i in range(count)]


def effective_zone(zone: Zone, secret: bytes, zone_id: str) -> EffectiveZone:
    """The randomised zone that is actually applied; covers ``zone`` entirely."""
    u = _uniforms(secret, b"zone-edge\n" + zone_id.encode(), 7)
    r = zone.radius_m
    displacement = r * (0.25 + 0.35 * u[0])
    direction = 2 * math.pi * u[1]
    lat, lon = move(zone.lat, zone.lon, displacement * math.cos(direction), displacement * math.sin(direction))
    # Any point within r of the true centre is within r + displacement of the new one.
    base = r + displacement + 0.2 * r * u[2]
    harmonics = ((0.15 * r * u[3], 2, 2 * math.pi * u[4]), (0.10 * r * u[5], 5, 2 * math.pi * u[6]))
    return EffectiveZone(lat=lat, lon=lon, base_radius_m=base, harmonics=harmonics)


def outside_zones(points: Iterable[HasLatLon], zones: list[EffectiveZone]) -> Iterator[HasLatLon]:
    for point in points:
        if not any(zone.contains(point.lat, point.lon) for zone in zones):
            yield point


def coarsen(lat: float, lon: float) -> tuple[float, float]:
    """The centre of the ≈1 km grid cell holding the point."""
    cell = COARSE_CELL_DEGREES
    return (
        round(math.floor(lat / cell) * cell + cell / 2, 4),
        round(math.floor(lon / cell) * cell + cell / 2, 4),
    )
