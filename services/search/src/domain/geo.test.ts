import { boundingBox, haversineKm } from './geo';

/** The point `km` away from (lat, lon) at `bearing` degrees (great circle). */
function destination(lat: number, lon: number, km: number, bearing: number) {
  const R = 6371.0088;
  const r = (d: number) => (d * Math.PI) / 180;
  const d = km / R;
  const lat2 = Math.asin(Math.sin(r(lat)) * Math.cos(d) + Math.cos(r(lat)) * Math.sin(d) * Math.cos(r(bearing)));
  const lon2 = r(lon) + Math.atan2(Math.sin(r(bearing)) * Math.sin(d) * Math.cos(r(lat)), Math.cos(d) - Math.sin(r(lat)) * Math.sin(lat2));
  const norm = (((lon2 * 180) / Math.PI + 540) % 360) - 180;
  return { latitude: (lat2 * 180) / Math.PI, longitude: norm };
}

describe('geo', () => {
  it('measures known distances', () => {
    expect(haversineKm(47.3769, 8.5417, 46.948, 7.4474)).toBeCloseTo(95.5, 0); // Zürich–Bern
    expect(haversineKm(0, 179.5, 0, -179.5)).toBeCloseTo(111.2, 0); // across the antimeridian
  });

  it.each([
    [47.3769, 8.5417, 50],
    [46.2, 6.1, 500],
    [-33.9, 18.4, 300],
    [80, 20, 400],
    [0, 0, 1],
  ])('boxes every point on the circle around (%p, %p) r=%p', (lat, lon, radius) => {
    const box = boundingBox(lat, lon, radius);
    for (let bearing = 0; bearing < 360; bearing += 5) {
      const p = destination(lat, lon, radius, bearing);
      expect(p.latitude).toBeGreaterThanOrEqual(box.minLatitude);
      expect(p.latitude).toBeLessThanOrEqual(box.maxLatitude);
      if (box.longitude) {
        expect(p.longitude).toBeGreaterThanOrEqual(box.longitude.min);
        expect(p.longitude).toBeLessThanOrEqual(box.longitude.max);
      }
    }
  });

  it('drops the longitude prefilter across the antimeridian and around a pole', () => {
    expect(boundingBox(-16.5, 179.95, 50).longitude).toBeUndefined();
    expect(boundingBox(89.9, 10, 50).longitude).toBeUndefined();
    expect(boundingBox(47, 8, 50).longitude).toBeDefined();
  });
});
