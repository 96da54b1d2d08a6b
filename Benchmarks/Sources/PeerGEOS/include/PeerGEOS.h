#ifndef SUBTERRA_PEER_GEOS_H
#define SUBTERRA_PEER_GEOS_H
// GEOS STRtree peer through the reentrant C API. Each segment becomes a GEOS LineString; the tree
// holds item = id + 1 (so id 0 is not a null pointer). Exact refinement uses GEOS predicates
// (GEOSIntersects_r, GEOSDistanceWithin_r, GEOSDistance_r), as a GEOS user would write it, in the
// forms measured fastest against the alternatives (prepared geometries, nearest_generic, node
// capacities: Benchmarks/README.md, "Peers at their best"). One geos_index is one GEOS context: use it from
// one thread at a time. Query functions write into caller buffers and return the number found,
// which may exceed `cap`.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct geos_index geos_index;

/// Builds an STRtree (node capacity 10, GEOS's default) over the segments; the tree itself is
/// packed lazily by GEOS on the first query, so this also runs one empty query to force it.
geos_index *geos_index_build(const double *x0y0x1y1, size_t n);
void geos_index_free(geos_index *index);

size_t geos_index_query_box(geos_index *index, double minx, double miny, double maxx, double maxy,
                            uint32_t *out, size_t cap);
/// k nearest (k = 1 included): grows a search window from 8 m, doubling, until k exact
/// GEOSDistance_r distances lie within it, then sorts by (distance, id) in a reused buffer. GEOS's
/// C API has only single nearest (GEOSSTRtree_nearest_generic_r), and for k = 1 it was 2.6x to
/// 5x slower than this window at 10^6 segments (Benchmarks/README.md, "Peers at their best").
size_t geos_index_nearest(geos_index *index, double x, double y, size_t k, uint32_t *ids,
                          double *distances, size_t cap);
size_t geos_index_within(geos_index *index, double x, double y, double r, uint32_t *out, size_t cap);
size_t geos_index_polygon_within(geos_index *index, const double *ring_xy, size_t nverts, double r,
                                 uint32_t *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
