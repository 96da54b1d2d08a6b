// GEOS STRtree peer: see PeerGEOS.h.
#define GEOS_USE_ONLY_R_API
#include "PeerGEOS.h"

#include <geos_c.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ranked { double d; uint32_t id; };

struct geos_index {
  GEOSContextHandle_t ctx;
  GEOSSTRtree *tree;
  GEOSGeometry **geoms;  // one LineString per segment, owned here (the tree does not own them)
  size_t n;
  // Scratch reused across queries so the query path itself allocates only inside GEOS.
  uint32_t *cand;
  double *cand_d;
  size_t cand_cap, cand_count;
  struct ranked *order;  // k-nearest sort buffer, grown with cand
  size_t order_cap;
};

static void geos_message(const char *fmt, ...) {
  (void)fmt;  // errors surface as NULL/-1 results, checked by the callers below
}

static GEOSGeometry *make_segment(GEOSContextHandle_t ctx, double x0, double y0, double x1, double y1) {
  GEOSCoordSequence *cs = GEOSCoordSeq_create_r(ctx, 2, 2);
  if (!cs) return NULL;
  GEOSCoordSeq_setXY_r(ctx, cs, 0, x0, y0);
  GEOSCoordSeq_setXY_r(ctx, cs, 1, x1, y1);
  return GEOSGeom_createLineString_r(ctx, cs);
}

static void push_candidate(void *item, void *userdata) {
  struct geos_index *idx = userdata;
  if (idx->cand_count == idx->cand_cap) {
    size_t cap = idx->cand_cap ? idx->cand_cap * 2 : 256;
    uint32_t *c = realloc(idx->cand, cap * sizeof(uint32_t));
    double *d = realloc(idx->cand_d, cap * sizeof(double));
    if (!c || !d) { free(c); free(d); abort(); }
    idx->cand = c;
    idx->cand_d = d;
    idx->cand_cap = cap;
  }
  idx->cand[idx->cand_count++] = (uint32_t)((uintptr_t)item - 1);
}

static void ignore_item(void *item, void *userdata) { (void)item; (void)userdata; }

geos_index *geos_index_build(const double *v, size_t n) {
  struct geos_index *idx = calloc(1, sizeof(*idx));
  if (!idx) return NULL;
  idx->ctx = GEOS_init_r();
  GEOSContext_setNoticeHandler_r(idx->ctx, geos_message);
  GEOSContext_setErrorHandler_r(idx->ctx, geos_message);
  idx->tree = GEOSSTRtree_create_r(idx->ctx, 10);
  idx->geoms = malloc((n ? n : 1) * sizeof(GEOSGeometry *));
  idx->n = n;
  if (!idx->tree || !idx->geoms) { geos_index_free(idx); return NULL; }
  for (size_t i = 0; i < n; ++i) {
    idx->geoms[i] = make_segment(idx->ctx, v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]);
    if (!idx->geoms[i]) { idx->n = i; geos_index_free(idx); return NULL; }
    GEOSSTRtree_insert_r(idx->ctx, idx->tree, idx->geoms[i], (void *)(uintptr_t)(i + 1));
  }
  // GEOS builds the STR packing on first query; do it here so build time is counted as build.
  GEOSGeometry *p = GEOSGeom_createPointFromXY_r(idx->ctx, 0, 0);
  GEOSSTRtree_query_r(idx->ctx, idx->tree, p, ignore_item, NULL);
  GEOSGeom_destroy_r(idx->ctx, p);
  return idx;
}

void geos_index_free(geos_index *idx) {
  if (!idx) return;
  if (idx->tree) GEOSSTRtree_destroy_r(idx->ctx, idx->tree);
  if (idx->geoms) {
    for (size_t i = 0; i < idx->n; ++i) GEOSGeom_destroy_r(idx->ctx, idx->geoms[i]);
    free(idx->geoms);
  }
  free(idx->cand);
  free(idx->cand_d);
  free(idx->order);
  GEOS_finish_r(idx->ctx);
  free(idx);
}

static GEOSGeometry *make_box(GEOSContextHandle_t ctx, double minx, double miny, double maxx, double maxy) {
  return GEOSGeom_createRectangle_r(ctx, minx, miny, maxx, maxy);
}

static size_t emit(const uint32_t *ids, size_t count, uint32_t *out, size_t cap) {
  memcpy(out, ids, (count < cap ? count : cap) * sizeof(uint32_t));
  return count;
}

size_t geos_index_query_box(geos_index *idx, double minx, double miny, double maxx, double maxy, uint32_t *out,
                            size_t cap) {
  GEOSGeometry *box = make_box(idx->ctx, minx, miny, maxx, maxy);
  idx->cand_count = 0;
  GEOSSTRtree_query_r(idx->ctx, idx->tree, box, push_candidate, idx);
  size_t kept = 0;
  // Plain GEOSIntersects_r: GEOS's rectangle fast path; preparing the box did not pay for the
  // few candidates of a 10-50 m window (Benchmarks/README.md, "Peers at their best").
  for (size_t i = 0; i < idx->cand_count; ++i) {
    uint32_t id = idx->cand[i];
    if (GEOSIntersects_r(idx->ctx, box, idx->geoms[id]) == 1) idx->cand[kept++] = id;
  }
  GEOSGeom_destroy_r(idx->ctx, box);
  return emit(idx->cand, kept, out, cap);
}

static int by_distance_then_id(const void *a, const void *b) {
  const struct ranked *x = a, *y = b;
  if (x->d < y->d) return -1;
  if (x->d > y->d) return 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

size_t geos_index_nearest(geos_index *idx, double x, double y, size_t k, uint32_t *ids, double *distances,
                          size_t cap) {
  if (k == 0 || idx->n == 0) return 0;
  GEOSGeometry *p = GEOSGeom_createPointFromXY_r(idx->ctx, x, y);
  double r = 8.0;
  size_t result = 0;
  for (;;) {
    GEOSGeometry *box = make_box(idx->ctx, x - r, y - r, x + r, y + r);
    idx->cand_count = 0;
    GEOSSTRtree_query_r(idx->ctx, idx->tree, box, push_candidate, idx);
    GEOSGeom_destroy_r(idx->ctx, box);
    size_t within = 0;
    for (size_t i = 0; i < idx->cand_count; ++i) {
      GEOSDistance_r(idx->ctx, idx->geoms[idx->cand[i]], p, &idx->cand_d[i]);
      if (idx->cand_d[i] <= r) ++within;
    }
    // Everything within distance r of p lies in the box, so once k candidates are within r the
    // k nearest are among the candidates.
    if (within >= k || idx->cand_count == idx->n) {
      size_t m = idx->cand_count;
      if (m > idx->order_cap) {
        struct ranked *o = realloc(idx->order, m * sizeof(struct ranked));
        if (!o) abort();
        idx->order = o;
        idx->order_cap = m;
      }
      struct ranked *order = idx->order;
      for (size_t i = 0; i < m; ++i) order[i] = (struct ranked){idx->cand_d[i], idx->cand[i]};
      qsort(order, m, sizeof(struct ranked), by_distance_then_id);
      result = m < k ? m : k;
      for (size_t i = 0; i < result && i < cap; ++i) {
        ids[i] = order[i].id;
        distances[i] = order[i].d;
      }
      break;
    }
    r *= 2;
  }
  GEOSGeom_destroy_r(idx->ctx, p);
  return result;
}

size_t geos_index_within(geos_index *idx, double x, double y, double r, uint32_t *out, size_t cap) {
  GEOSGeometry *p = GEOSGeom_createPointFromXY_r(idx->ctx, x, y);
  GEOSGeometry *box = make_box(idx->ctx, x - r, y - r, x + r, y + r);
  idx->cand_count = 0;
  GEOSSTRtree_query_r(idx->ctx, idx->tree, box, push_candidate, idx);
  size_t kept = 0;
  // GEOSDistanceWithin_r (GEOS >= 3.10) stops as soon as the limit is met: the fastest measured
  // (plain GEOSDistance_r, or a prepared point with GEOSPreparedDistanceWithin_r, were slower).
  for (size_t i = 0; i < idx->cand_count; ++i) {
    if (GEOSDistanceWithin_r(idx->ctx, idx->geoms[idx->cand[i]], p, r) == 1) idx->cand[kept++] = idx->cand[i];
  }
  GEOSGeom_destroy_r(idx->ctx, box);
  GEOSGeom_destroy_r(idx->ctx, p);
  return emit(idx->cand, kept, out, cap);
}

size_t geos_index_polygon_within(geos_index *idx, const double *ring, size_t nverts, double r, uint32_t *out,
                                 size_t cap) {
  GEOSCoordSequence *cs = GEOSCoordSeq_create_r(idx->ctx, (unsigned)(nverts + 1), 2);
  double minx = ring[0], miny = ring[1], maxx = ring[0], maxy = ring[1];
  for (size_t i = 0; i <= nverts; ++i) {
    size_t j = i % nverts;
    GEOSCoordSeq_setXY_r(idx->ctx, cs, (unsigned)i, ring[2 * j], ring[2 * j + 1]);
    minx = fmin(minx, ring[2 * j]);
    maxx = fmax(maxx, ring[2 * j]);
    miny = fmin(miny, ring[2 * j + 1]);
    maxy = fmax(maxy, ring[2 * j + 1]);
  }
  GEOSGeometry *shell = GEOSGeom_createLinearRing_r(idx->ctx, cs);
  GEOSGeometry *poly = GEOSGeom_createPolygon_r(idx->ctx, shell, NULL, 0);
  GEOSGeometry *box = make_box(idx->ctx, minx - r, miny - r, maxx + r, maxy + r);
  idx->cand_count = 0;
  GEOSSTRtree_query_r(idx->ctx, idx->tree, box, push_candidate, idx);
  size_t kept = 0;
  for (size_t i = 0; i < idx->cand_count; ++i) {
    // Distance-within: 0 inside the polygon, exact segment distance outside. Unprepared: a
    // prepared polygon (GEOSPreparedDistanceWithin_r) did not pay for the handful of candidates
    // of a dig site (Benchmarks/README.md, "Peers at their best").
    if (GEOSDistanceWithin_r(idx->ctx, idx->geoms[idx->cand[i]], poly, r) == 1) idx->cand[kept++] = idx->cand[i];
  }
  GEOSGeom_destroy_r(idx->ctx, box);
  GEOSGeom_destroy_r(idx->ctx, poly);
  return emit(idx->cand, kept, out, cap);
}
