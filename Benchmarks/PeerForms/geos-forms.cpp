// GEOS forms, measured against each other (Benchmarks/README.md, "Peers at their best"): every
// documented C-API way to answer each workload with an STRtree, in one process, interleaved round
// by round on the same data and queries. The fastest exact form of each workload is what
// Sources/PeerGEOS/PeerGEOS.c uses.
//
//   subterra-compare dump --family streets --size 1000000 --out /tmp/streets.bin
//   clang++ -std=c++17 -O3 -DNDEBUG -o /tmp/geos-forms PeerForms/geos-forms.cpp -lgeos_c
//   /tmp/geos-forms /tmp/streets.bin [rounds] [queries]
#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "forms-data.h"


static Data D;
static GEOSContextHandle_t ctx;
static std::vector<GEOSGeometry *> geoms;

struct Tree {
  GEOSSTRtree *t;
  std::vector<uint32_t> cand;
};

static void push(void *item, void *ud) { static_cast<std::vector<uint32_t> *>(ud)->push_back(uint32_t((uintptr_t)item - 1)); }
static void ignore(void *, void *) {}

static Tree makeTree(size_t capacity) {
  Tree t{GEOSSTRtree_create_r(ctx, capacity), {}};
  for (size_t i = 0; i < geoms.size(); ++i) GEOSSTRtree_insert_r(ctx, t.t, geoms[i], (void *)(uintptr_t)(i + 1));
  GEOSGeometry *p = GEOSGeom_createPointFromXY_r(ctx, 0, 0);
  GEOSSTRtree_query_r(ctx, t.t, p, ignore, nullptr);
  GEOSGeom_destroy_r(ctx, p);
  t.cand.reserve(4096);
  return t;
}


static GEOSGeometry *polygonOf(const std::vector<double> &ring) {
  size_t nv = ring.size() / 2;
  GEOSCoordSequence *cs = GEOSCoordSeq_create_r(ctx, unsigned(nv + 1), 2);
  for (size_t i = 0; i <= nv; ++i) GEOSCoordSeq_setXY_r(ctx, cs, unsigned(i), ring[2 * (i % nv)], ring[2 * (i % nv) + 1]);
  return GEOSGeom_createPolygon_r(ctx, GEOSGeom_createLinearRing_r(ctx, cs), nullptr, 0);
}
static void ringBox(const std::vector<double> &ring, double r, double b[4]) {
  b[0] = b[2] = ring[0];
  b[1] = b[3] = ring[1];
  for (size_t i = 0; i + 1 < ring.size(); i += 2) {
    b[0] = std::min(b[0], ring[i]);
    b[2] = std::max(b[2], ring[i]);
    b[1] = std::min(b[1], ring[i + 1]);
    b[3] = std::max(b[3], ring[i + 1]);
  }
  b[0] -= r;
  b[1] -= r;
  b[2] += r;
  b[3] += r;
}

static int distCb(const void *item1, const void *item2, double *d, void *) {
  return GEOSDistance_r(ctx, geoms[(uintptr_t)item1 - 1], (const GEOSGeometry *)item2, d);
}

// The refinement forms: 0 GEOSDistance <= r, 1 GEOSDistanceWithin, 2 prepared query geometry
// with GEOSPreparedDistanceWithin, 3 prepared GEOSPreparedIntersects first, then as 2.
static bool distanceWithin(int how, const GEOSGeometry *g, const GEOSGeometry *q, const GEOSPreparedGeometry *prep, double r) {
  double d;
  switch (how) {
  case 0: return GEOSDistance_r(ctx, g, q, &d) == 1 && d <= r;
  case 1: return GEOSDistanceWithin_r(ctx, g, q, r) == 1;
  case 2: return GEOSPreparedDistanceWithin_r(ctx, prep, g, r) == 1;
  default: return GEOSPreparedIntersects_r(ctx, prep, g) == 1 || GEOSPreparedDistanceWithin_r(ctx, prep, g, r) == 1;
  }
}

struct Ranked {
  double d;
  uint32_t id;
  bool operator<(const Ranked &o) const { return d < o.d || (d == o.d && id < o.id); }
};

static void addForms(std::vector<Form> &forms, Tree *t, const std::string &tag, bool all) {
  // window
  for (int how = 0; how < (all ? 2 : 1); ++how)
    forms.push_back({"window", tag + (how == 0 ? " query + GEOSPreparedIntersects(prepared box)" : " query + GEOSIntersects(box)"),
                     [t, how] {
                       Sum s;
                       for (auto &w : D.windows) {
                         GEOSGeometry *box = GEOSGeom_createRectangle_r(ctx, w[0], w[1], w[2], w[3]);
                         const GEOSPreparedGeometry *prep = how == 0 ? GEOSPrepare_r(ctx, box) : nullptr;
                         t->cand.clear();
                         GEOSSTRtree_query_r(ctx, t->t, box, push, &t->cand);
                         for (uint32_t id : t->cand)
                           if ((how == 0 ? GEOSPreparedIntersects_r(ctx, prep, geoms[id]) : GEOSIntersects_r(ctx, box, geoms[id])) == 1)
                             s.n += 1 + id;
                         if (prep) GEOSPreparedGeom_destroy_r(ctx, prep);
                         GEOSGeom_destroy_r(ctx, box);
                       }
                       return s;
                     }});
  // nearest, k = 1: nearest_generic vs the growing window of k = 10
  auto grow = [t](size_t k, int how) {
    return [t, k, how] {
      Sum s;
      std::vector<Ranked> order;
      order.reserve(4096);
      for (auto &q : D.points) {
        GEOSGeometry *p = GEOSGeom_createPointFromXY_r(ctx, q[0], q[1]);
        const GEOSPreparedGeometry *prep = how == 1 ? GEOSPrepare_r(ctx, p) : nullptr;
        for (double r = 8;; r *= 2) {
          GEOSGeometry *box = GEOSGeom_createRectangle_r(ctx, q[0] - r, q[1] - r, q[0] + r, q[1] + r);
          t->cand.clear();
          GEOSSTRtree_query_r(ctx, t->t, box, push, &t->cand);
          GEOSGeom_destroy_r(ctx, box);
          order.clear();
          size_t within = 0;
          for (uint32_t id : t->cand) {
            double d;
            if (how == 1)
              GEOSPreparedDistance_r(ctx, prep, geoms[id], &d);
            else
              GEOSDistance_r(ctx, geoms[id], p, &d);
            order.push_back({d, id});
            within += d <= r;
          }
          if (within >= k || t->cand.size() == geoms.size()) {
            std::sort(order.begin(), order.end());
            for (size_t i = 0; i < k && i < order.size(); ++i) {
              s.n += 1;
              s.d += order[i].d;
            }
            break;
          }
        }
        if (prep) GEOSPreparedGeom_destroy_r(ctx, prep);
        GEOSGeom_destroy_r(ctx, p);
      }
      return s;
    };
  };
  forms.push_back({"nearest1", tag + " GEOSSTRtree_nearest_generic + GEOSDistance callback", [t] {
                     Sum s;
                     for (auto &q : D.points) {
                       GEOSGeometry *p = GEOSGeom_createPointFromXY_r(ctx, q[0], q[1]);
                       const void *item = GEOSSTRtree_nearest_generic_r(ctx, t->t, p, p, distCb, nullptr);
                       uint32_t id = uint32_t((uintptr_t)item - 1);
                       double d;
                       GEOSDistance_r(ctx, geoms[id], p, &d);
                       s.n += 1;  // distances only: equidistant segments are all correct picks
                       s.d += d;
                       GEOSGeom_destroy_r(ctx, p);
                     }
                     return s;
                   }});
  if (all) {
    forms.push_back({"nearest1", tag + " growing window + GEOSDistance, sorted", grow(1, 0)});
    forms.push_back({"nearest10", tag + " growing window + GEOSDistance, sorted", grow(10, 0)});
    forms.push_back({"nearest10", tag + " growing window + GEOSPreparedDistance(prepared point), sorted", grow(10, 1)});
  } else {
    forms.push_back({"nearest10", tag + " growing window + GEOSDistance, sorted", grow(10, 0)});
  }
  // within
  auto within = [t](int how) {
    return [t, how] {
      Sum s;
      for (size_t i = 0; i < D.points.size(); ++i) {
        double x = D.points[i][0], y = D.points[i][1], r = D.radii[i];
        GEOSGeometry *p = GEOSGeom_createPointFromXY_r(ctx, x, y);
        GEOSGeometry *box = GEOSGeom_createRectangle_r(ctx, x - r, y - r, x + r, y + r);
        const GEOSPreparedGeometry *prep = how == 2 ? GEOSPrepare_r(ctx, p) : nullptr;
        t->cand.clear();
        GEOSSTRtree_query_r(ctx, t->t, box, push, &t->cand);
        for (uint32_t id : t->cand)
          if (distanceWithin(how, geoms[id], p, prep, r)) s.n += 1 + id;
        if (prep) GEOSPreparedGeom_destroy_r(ctx, prep);
        GEOSGeom_destroy_r(ctx, box);
        GEOSGeom_destroy_r(ctx, p);
      }
      return s;
    };
  };
  forms.push_back({"within", tag + " query + GEOSDistance <= r", within(0)});
  if (all) {
    forms.push_back({"within", tag + " query + GEOSDistanceWithin", within(1)});
    forms.push_back({"within", tag + " query + GEOSPreparedDistanceWithin(prepared point)", within(2)});
  }
  // polygon
  auto poly = [t](int how) {
    return [t, how] {
      Sum s;
      for (auto &ring : D.polygons) {
        GEOSGeometry *pg = polygonOf(ring);
        double b[4];
        ringBox(ring, 1, b);
        GEOSGeometry *box = GEOSGeom_createRectangle_r(ctx, b[0], b[1], b[2], b[3]);
        const GEOSPreparedGeometry *prep = how >= 2 ? GEOSPrepare_r(ctx, pg) : nullptr;
        t->cand.clear();
        GEOSSTRtree_query_r(ctx, t->t, box, push, &t->cand);
        for (uint32_t id : t->cand)
          if (distanceWithin(how, geoms[id], pg, prep, 1)) s.n += 1 + id;
        if (prep) GEOSPreparedGeom_destroy_r(ctx, prep);
        GEOSGeom_destroy_r(ctx, box);
        GEOSGeom_destroy_r(ctx, pg);
      }
      return s;
    };
  };
  if (all) {
    forms.push_back({"dig_polygon", tag + " query + GEOSPreparedDistanceWithin(prepared polygon)", poly(2)});
    forms.push_back({"dig_polygon", tag + " query + GEOSDistance <= r", poly(0)});
    forms.push_back({"dig_polygon", tag + " query + GEOSDistanceWithin", poly(1)});
    forms.push_back({"dig_polygon", tag + " query + GEOSPreparedIntersects || GEOSPreparedDistanceWithin", poly(3)});
  } else {
    forms.push_back({"dig_polygon", tag + " query + GEOSPreparedDistanceWithin(prepared polygon)", poly(2)});
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: geos-forms DUMP [rounds] [queries]\n");
    return 2;
  }
  if (!readDump(argv[1], D)) return 1;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  D.truncateQueries(argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 1000);
  ctx = GEOS_init_r();
  for (size_t i = 0; i < D.n; ++i) {
    const double *c = &D.coords[4 * i];
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(ctx, 2, 2);
    GEOSCoordSeq_setXY_r(ctx, cs, 0, c[0], c[1]);
    GEOSCoordSeq_setXY_r(ctx, cs, 1, c[2], c[3]);
    geoms.push_back(GEOSGeom_createLineString_r(ctx, cs));
  }
  std::vector<Form> forms;
  for (size_t cap : {10, 4, 16, 32})
    forms.push_back({"build_packed", "STRtree node capacity " + std::to_string(cap), [cap] {
                       Tree t = makeTree(cap);
                       GEOSSTRtree_destroy_r(ctx, t.t);
                       return Sum{1, 0};
                     }});
  static Tree t10 = makeTree(10), t4 = makeTree(4), t16 = makeTree(16), t32 = makeTree(32);
  addForms(forms, &t10, "capacity 10", true);
  addForms(forms, &t4, "capacity 4", false);
  addForms(forms, &t16, "capacity 16", false);
  addForms(forms, &t32, "capacity 32", false);
  runForms(forms, rounds, 5, D.points.size(), nullptr);
  return 0;
}
