// Great-circle distance on a spherical Earth, and the bounding box that prefilters it.

/** Mean Earth radius (IUGG), km. The SQL uses the same value. */
export const EARTH_RADIUS_KM = 6371.0088;

const rad = (deg: number) => (deg * Math.PI) / 180;
const deg = (rad: number) => (rad * 180) / Math.PI;

/** Haversine distance in km (the same formula as the search SQL). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const a = Math.sin(rad(lat2 - lat1) / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
  return EARTH_RADIUS_KM * 2 * Math.asin(Math.min(1, Math.sqrt(a)));
}

export interface BoundingBox {
  minLatitude: number;
  maxLatitude: number;
  /** Absent when the circle reaches a pole or crosses the antimeridian: no longitude prefilter. */
  longitude?: { min: number; max: number };
}

/** Margin in degrees so that a point exactly on the circle is never cut by rounding. */
const MARGIN = 1e-6;

/**
 * The smallest latitude/longitude box that contains every point within `radiusKm` of the centre
 * (J. P. Matuschek, "Finding points within a distance of a latitude/longitude"). It only narrows
 * the rows an index hands to the exact distance check; it never decides on its own.
 */
export function boundingBox(latitude: number, longitude: number, radiusKm: number): BoundingBox {
  const angular = radiusKm / EARTH_RADIUS_KM;
  const minLat = rad(latitude) - angular;
  const maxLat = rad(latitude) + angular;
  if (minLat <= -Math.PI / 2 || maxLat >= Math.PI / 2) {
    return { minLatitude: Math.max(-90, deg(minLat) - MARGIN), maxLatitude: Math.min(90, deg(maxLat) + MARGIN) };
  }
  const deltaLon = Math.asin(Math.min(1, Math.sin(angular) / Math.cos(rad(latitude))));
  const minLon = rad(longitude) - deltaLon;
  const maxLon = rad(longitude) + deltaLon;
  const box: BoundingBox = { minLatitude: deg(minLat) - MARGIN, maxLatitude: deg(maxLat) + MARGIN };
  if (minLon >= -Math.PI && maxLon <= Math.PI) box.longitude = { min: deg(minLon) - MARGIN, max: deg(maxLon) + MARGIN };
  return box;
}

/**
 * The chord (straight line through the Earth) between two points `km` apart on the surface: what
 * the spatial index measures (migration `search_people_can_type`, earth_position). Both grow
 * together, so "within r km" is "chord within chordKm(r)" and nearest-first is smallest chord first.
 */
export function chordKm(km: number): number {
  return 2 * EARTH_RADIUS_KM * Math.sin(Math.min(km, Math.PI * EARTH_RADIUS_KM) / (2 * EARTH_RADIUS_KM));
}

/** The surface distance of a chord (the inverse of `chordKm`). */
export function surfaceKm(chord: number): number {
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, chord / (2 * EARTH_RADIUS_KM)));
}
