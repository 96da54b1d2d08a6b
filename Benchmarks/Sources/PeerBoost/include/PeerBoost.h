#ifndef SUBTERRA_PEER_BOOST_H
#define SUBTERRA_PEER_BOOST_H
// Plain C interface to a Boost.Geometry R-tree over line segments (packed: rstar<8> node size;
// inserted: linear<16>; chosen by measurement, see Benchmarks/README.md), so the Swift
// benchmark driver can call it without C++ interop. Segments are passed as x0,y0,x1,y1 quadruples;
// an item's id is its position in that array. Every query writes into caller-owned buffers and
// returns the number of results found, which may exceed `cap` (then only `cap` were written and
// the caller retries with a larger buffer). Nothing here allocates per query except Boost's own
// internal query stacks.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct boost_index boost_index;

/// Packing (bulk-load) constructor, node size 8 (bgi::rstar<8>; packing ignores the split
/// algorithm). Returns NULL on allocation failure.
boost_index *boost_index_build(const double *x0y0x1y1, size_t n);
/// The same data inserted one segment at a time (bgi::linear<16>: the fastest insertion).
boost_index *boost_index_build_insert(const double *x0y0x1y1, size_t n);
void boost_index_free(boost_index *index);
/// Bytes the index obtained from its allocator (nodes and values), counted by a stateful
/// allocator; excludes the handle itself.
size_t boost_index_bytes(const boost_index *index);
size_t boost_index_size(const boost_index *index);

/// Segments that intersect the closed box exactly (bg::intersects(segment, box)).
size_t boost_index_query_box(const boost_index *index, double minx, double miny, double maxx,
                             double maxy, uint32_t *out, size_t cap);
/// The k segments nearest to (x, y) by exact point-segment distance, nearest first.
/// Not const: the index keeps the kNN scratch buffers it reuses across queries.
size_t boost_index_nearest(boost_index *index, double x, double y, size_t k, uint32_t *ids,
                           double *distances, size_t cap);
/// Segments whose exact distance to (x, y) is <= r.
size_t boost_index_within(const boost_index *index, double x, double y, double r, uint32_t *out,
                          size_t cap);
/// Segments whose exact distance to the polygon (interior counts as 0) is <= r. The ring is
/// given as `nverts` x,y pairs, not repeated at the end, in any orientation. Not const: the index
/// reuses one polygon's storage across queries.
size_t boost_index_polygon_within(boost_index *index, const double *ring_xy, size_t nverts,
                                  double r, uint32_t *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
