#ifndef SUBTERRA_PEER_GEOS_H
#define SUBTERRA_PEER_GEOS_H
// GEOS STRtree peer through the reentrant C API. Each segment becomes a GEOS LineString; the tree
// holds item = id + 1 (so id 0 is not a null pointer). Exact refinement uses GEOS predicates and
// GEOSDistance_r, as a GEOS user would write it. One geos_index is one GEOS context: use it from
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
/// Exact nearest segment via GEOSSTRtree_nearest_generic_r with a GEOSDistance_r callback.
/// Returns 1 and writes the id and distance, or 0 for an empty index.
size_t geos_index_nearest1(geos_index *index, double x, double y, uint32_t *id, double *distance);
/// k nearest: GEOS's C API has only single nearest, so this grows a search window until k exact
/// distances lie within it (the usual GEOS idiom), then sorts by (distance, id).
size_t geos_index_nearest(geos_index *index, double x, double y, size_t k, uint32_t *ids,
                          double *distances, size_t cap);
size_t geos_index_within(geos_index *index, double x, double y, double r, uint32_t *out, size_t cap);
size_t geos_index_polygon_within(geos_index *index, const double *ring_xy, size_t nverts, double r,
                                 uint32_t *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
