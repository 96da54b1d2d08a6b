// Boost.Geometry forms, measured against each other (Benchmarks/README.md, "Peers at their best").
// Every documented way to write the peer's queries and builds, in one process, interleaved
// round by round on the same data and queries, so the ratios survive a shared, noisy machine.
// The fastest form of each workload is what Sources/PeerBoost/PeerBoost.cpp uses.
//
//   subterra-compare dump --family streets --size 1000000 --out /tmp/streets.bin
//   clang++ -std=c++17 -O3 -DNDEBUG -o /tmp/boost-forms PeerForms/boost-forms.cpp  # the toolchain's clang
//   /tmp/boost-forms /tmp/streets.bin [rounds] [queries] [workload]  # every query form
//   /tmp/boost-forms /tmp/streets.bin 7 1000 nodes   # node sizes 8/16/32 on the winning forms
//   /tmp/boost-forms /tmp/streets.bin 3 1000 build   # packing constructor and insertion variants
#include "../Sources/PeerBoost/BoostPrelude.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "forms-data.h"

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using point_t = bg::model::point<double, 2, bg::cs::cartesian>;
using box_t = bg::model::box<point_t>;
using segment_t = bg::model::segment<point_t>;
using polygon_t = bg::model::polygon<point_t, true, false>;

// Allocation count: every Boost allocation goes through operator new.
static size_t g_allocs = 0;
void *operator new(size_t n) {
  ++g_allocs;
  if (void *p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, size_t) noexcept { std::free(p); }


static Data D;
static std::vector<segment_t> segs;  // the separate segment table of the box-valued trees
static std::vector<polygon_t> polys;
static std::vector<box_t> polyBoxes;

struct Ranked {
  double d;
  uint32_t id;
  bool operator<(const Ranked &o) const { return d < o.d || (d == o.d && id < o.id); }
};


using SegV = std::pair<segment_t, uint32_t>;
using BoxV = std::pair<box_t, uint32_t>;

template <class V> const segment_t &seg_of(const V &v);
template <> const segment_t &seg_of<SegV>(const SegV &v) { return v.first; }
template <> const segment_t &seg_of<BoxV>(const BoxV &v) { return segs[v.second]; }

template <class V> V make_value(size_t i);
template <> SegV make_value<SegV>(size_t i) { return SegV(segs[i], uint32_t(i)); }
template <> BoxV make_value<BoxV>(size_t i) {
  box_t b;
  bg::envelope(segs[i], b);
  return BoxV(b, uint32_t(i));
}


template <class V, class P> struct Tree {
  using rtree = bgi::rtree<V, P>;
  rtree t;
  explicit Tree(std::vector<V> &vals) : t(vals.begin(), vals.end()) {}
};

template <class V> std::vector<V> values() {
  std::vector<V> v;
  v.reserve(segs.size());
  for (size_t i = 0; i < segs.size(); ++i) v.push_back(make_value<V>(i));
  return v;
}

template <class T> struct Buf {
  std::vector<T> v;
};

// Output iterator writing into a reused raw buffer (no growth after warm-up).
template <class V> struct RawOut {
  using iterator_category = std::output_iterator_tag;
  using value_type = void;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = void;
  V *p;
  RawOut &operator*() { return *this; }
  RawOut &operator++() { return *this; }
  RawOut operator++(int) { return *this; }
  RawOut &operator=(const V &v) {
    *p++ = v;
    return *this;
  }
};

// Counts ids without storing (window / within / polygon answers).
template <class V> struct IdOut {
  using iterator_category = std::output_iterator_tag;
  using value_type = void;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = void;
  Sum *s;
  IdOut &operator*() { return *this; }
  IdOut &operator++() { return *this; }
  IdOut operator++(int) { return *this; }
  IdOut &operator=(const V &v) {
    s->n += 1 + v.second;
    return *this;
  }
};

// Window, within, polygon and kNN forms of one tree type.
template <class V, class P> void addQueryForms(std::vector<Form> &forms, const std::string &tag, const typename Tree<V, P>::rtree &t,
                                               bool allKnn) {
  using rt = typename Tree<V, P>::rtree;
  const rt *tp = &t;
  constexpr bool isSeg = std::is_same<V, SegV>::value;
  // window
  forms.push_back({"window", tag + " intersects(box)" + (isSeg ? "" : " + refine bg::intersects(segs[id], box)"), [tp] {
                     Sum s;
                     for (auto &w : D.windows) {
                       box_t b(point_t(w[0], w[1]), point_t(w[2], w[3]));
                       if (isSeg) {
                         tp->query(bgi::intersects(b), IdOut<V>{&s});
                       } else {
                         tp->query(bgi::intersects(b) && bgi::satisfies([&](const V &v) { return bg::intersects(seg_of<V>(v), b); }),
                                   IdOut<V>{&s});
                       }
                     }
                     return s;
                   }});
  // kNN, k = 1 and 10
  for (unsigned k : {1u, 10u}) {
    std::string wl = k == 1 ? "nearest1" : "nearest10";
    const size_t K = k;
    auto finish = [K](Sum &s, std::vector<Ranked> &r, const point_t &) {
      std::sort(r.begin(), r.end());
      // Distances only: at the k-th distance any equidistant segment is a correct pick.
      for (size_t i = 0; i < r.size() && i < K; ++i) {
        s.n += 1;
        s.d += r[i].d;
      }
    };
    // A box-valued tree ranks nearest by box distance, so its query(nearest(p, k)) is not the
    // exact k nearest segments. The exact idiom on it, qbegin(nearest(p, size())) with the top k
    // by exact distance and a stop once a box is farther than the k-th, took 100x to 100,000x
    // the segment-valued tree's time (Boost's incremental search expands the whole frontier when
    // k is the tree size), so box-valued trees are measured on the other workloads only.
    if (allKnn && isSeg) {
      forms.push_back({wl, tag + " qbegin/qend", [tp, k, finish] {
                         Sum s;
                         std::vector<Ranked> r;
                         r.reserve(k);
                         for (auto &q : D.points) {
                           point_t p(q[0], q[1]);
                           r.clear();
                           for (auto it = tp->qbegin(bgi::nearest(p, k)); it != tp->qend(); ++it)
                             r.push_back({bg::distance(p, seg_of<V>(*it)), it->second});
                           finish(s, r, p);
                         }
                         return s;
                       }});
      forms.push_back({wl, tag + " query(nearest, back_inserter(reused vector))", [tp, k, finish] {
                         Sum s;
                         std::vector<V> out;
                         out.reserve(k);
                         std::vector<Ranked> r;
                         r.reserve(k);
                         for (auto &q : D.points) {
                           point_t p(q[0], q[1]);
                           out.clear();
                           tp->query(bgi::nearest(p, k), std::back_inserter(out));
                           r.clear();
                           for (auto &v : out) r.push_back({bg::distance(p, seg_of<V>(v)), v.second});
                           finish(s, r, p);
                         }
                         return s;
                       }});
    }
    if (isSeg) forms.push_back({wl, tag + " query(nearest, raw output iterator)", [tp, k, finish] {
                       Sum s;
                       std::vector<V> out(k);
                       std::vector<Ranked> r;
                       r.reserve(k);
                       for (auto &q : D.points) {
                         point_t p(q[0], q[1]);
                         size_t n = tp->query(bgi::nearest(p, k), RawOut<V>{out.data()});
                         r.clear();
                         for (size_t i = 0; i < n; ++i) r.push_back({bg::distance(p, seg_of<V>(out[i])), out[i].second});
                         finish(s, r, p);
                       }
                       return s;
                     }});
  }
  // within distance of a point
  auto within = [tp](int how) {
    return [tp, how] {
      Sum s;
      for (size_t i = 0; i < D.points.size(); ++i) {
        point_t p(D.points[i][0], D.points[i][1]);
        double r = D.radii[i], rr = r * r;
        box_t b(point_t(p.get<0>() - r, p.get<1>() - r), point_t(p.get<0>() + r, p.get<1>() + r));
        if (how == 0)
          tp->query(bgi::intersects(b) && bgi::satisfies([&](const V &v) { return bg::distance(p, seg_of<V>(v)) <= r; }), IdOut<V>{&s});
        else if (how == 1)
          tp->query(bgi::intersects(b) && bgi::satisfies([&](const V &v) { return bg::comparable_distance(p, seg_of<V>(v)) <= rr; }),
                    IdOut<V>{&s});
        else
          tp->query(bgi::satisfies([&](const V &v) { return bg::comparable_distance(p, seg_of<V>(v)) <= rr; }), IdOut<V>{&s});
      }
      return s;
    };
  };
  forms.push_back({"within", tag + " intersects(box) && satisfies(bg::distance <= r)", within(0)});
  forms.push_back({"within", tag + " intersects(box) && satisfies(bg::comparable_distance <= r*r)", within(1)});
  // polygon within 1 m
  auto poly = [tp](int how) {
    return [tp, how] {
      Sum s;
      for (size_t i = 0; i < polys.size(); ++i) {
        const polygon_t &pg = polys[i];
        box_t b = polyBoxes[i];
        if (how == 0)
          tp->query(bgi::intersects(b) && bgi::satisfies([&](const V &v) { return bg::distance(seg_of<V>(v), pg) <= 1.0; }), IdOut<V>{&s});
        else if (how == 1)
          tp->query(bgi::intersects(b) && bgi::satisfies([&](const V &v) {
                      return bg::intersects(seg_of<V>(v), pg) || bg::distance(seg_of<V>(v), pg) <= 1.0;
                    }),
                    IdOut<V>{&s});
        else
          tp->query(bgi::intersects(b) && bgi::satisfies([&](const V &v) { return bg::comparable_distance(seg_of<V>(v), pg) <= 1.0; }),
                    IdOut<V>{&s});
      }
      return s;
    };
  };
  forms.push_back({"dig_polygon", tag + " intersects(box) && satisfies(bg::distance(seg, poly) <= r)", poly(0)});
  forms.push_back({"dig_polygon", tag + " intersects(box) && satisfies(bg::intersects || bg::distance <= r)", poly(1)});
  forms.push_back({"dig_polygon", tag + " intersects(box) && satisfies(bg::comparable_distance(seg, poly) <= r*r)", poly(2)});
}

template <class V, class P> struct Keep {
  static std::vector<std::unique_ptr<typename Tree<V, P>::rtree>> &all() {
    static std::vector<std::unique_ptr<typename Tree<V, P>::rtree>> v;
    return v;
  }
};

template <class V, class P> void addPacked(std::vector<Form> &forms, const std::string &tag, bool queries, bool allKnn) {
  using rt = typename Tree<V, P>::rtree;
  forms.push_back({"build_packed", tag + " packing constructor", [] {
                     auto vals = values<V>();
                     rt t(vals.begin(), vals.end());
                     return Sum{t.size(), 0};
                   }});
  if (queries) {
    auto vals = values<V>();
    Keep<V, P>::all().emplace_back(new rt(vals.begin(), vals.end()));
    addQueryForms<V, P>(forms, tag, *Keep<V, P>::all().back(), allKnn);
  }
}

template <class V, class P> void addInsert(std::vector<Form> &forms, const std::string &tag) {
  using rt = typename Tree<V, P>::rtree;
  forms.push_back({"build_dynamic", tag + " insert one by one", [] {
                     rt t;
                     for (size_t i = 0; i < segs.size(); ++i) t.insert(make_value<V>(i));
                     return Sum{t.size(), 0};
                   }});
}

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: boost-forms DUMP [rounds] [queries] [workload-filter]\n");
    return 2;
  }
  if (!readDump(argv[1], D)) return 1;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  size_t nq = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 1000;
  std::string filter = argc > 4 ? argv[4] : "";
  D.truncateQueries(nq);
  for (size_t i = 0; i < D.n; ++i) {
    const double *c = &D.coords[4 * i];
    segs.emplace_back(point_t(c[0], c[1]), point_t(c[2], c[3]));
  }
  for (auto &ring : D.polygons) {
    polygon_t pg;
    for (size_t i = 0; i + 1 < ring.size(); i += 2) bg::append(pg.outer(), point_t(ring[i], ring[i + 1]));
    bg::correct(pg);
    box_t b;
    bg::envelope(pg, b);
    b.min_corner().set<0>(b.min_corner().get<0>() - 1);
    b.min_corner().set<1>(b.min_corner().get<1>() - 1);
    b.max_corner().set<0>(b.max_corner().get<0>() + 1);
    b.max_corner().set<1>(b.max_corner().get<1>() + 1);
    polys.push_back(pg);
    polyBoxes.push_back(b);
  }
  std::fprintf(stderr, "%zu segments, %zu queries per workload, %d rounds\n", D.n, D.points.size(), rounds);
  std::vector<Form> forms;
  bool wantQuery = filter.empty() || filter.find("build") == std::string::npos;
  if (filter == "nodes") {
    // Node size alone, on the query forms that won above, more rounds: the packed tree does not
    // depend on the split algorithm (rstar / quadratic / linear), only on the node size.
    addPacked<SegV, bgi::rstar<16>>(forms, "pair<segment,id> rstar<16>", true, false);
    addPacked<SegV, bgi::rstar<8>>(forms, "pair<segment,id> rstar<8>", true, false);
    addPacked<SegV, bgi::rstar<32>>(forms, "pair<segment,id> rstar<32>", true, false);
    filter.clear();
  } else if (wantQuery) {
    addPacked<SegV, bgi::rstar<16>>(forms, "pair<segment,id> rstar<16>", true, true);
    addPacked<BoxV, bgi::rstar<16>>(forms, "pair<box,id>+table rstar<16>", true, true);
    addPacked<SegV, bgi::quadratic<16>>(forms, "pair<segment,id> quadratic<16>", true, false);
    addPacked<SegV, bgi::linear<16>>(forms, "pair<segment,id> linear<16>", true, false);
    addPacked<SegV, bgi::rstar<8>>(forms, "pair<segment,id> rstar<8>", true, false);
    addPacked<SegV, bgi::rstar<32>>(forms, "pair<segment,id> rstar<32>", true, false);
    addPacked<BoxV, bgi::rstar<8>>(forms, "pair<box,id>+table rstar<8>", true, false);
    addPacked<BoxV, bgi::rstar<32>>(forms, "pair<box,id>+table rstar<32>", true, false);
  } else {
    addPacked<SegV, bgi::rstar<16>>(forms, "pair<segment,id> rstar<16>", false, false);
    addPacked<BoxV, bgi::rstar<16>>(forms, "pair<box,id>+table rstar<16>", false, false);
    addPacked<SegV, bgi::quadratic<16>>(forms, "pair<segment,id> quadratic<16>", false, false);
    addPacked<SegV, bgi::linear<16>>(forms, "pair<segment,id> linear<16>", false, false);
    addPacked<SegV, bgi::rstar<8>>(forms, "pair<segment,id> rstar<8>", false, false);
    addPacked<SegV, bgi::rstar<32>>(forms, "pair<segment,id> rstar<32>", false, false);
    addInsert<SegV, bgi::rstar<16>>(forms, "pair<segment,id> rstar<16>");
    addInsert<BoxV, bgi::rstar<16>>(forms, "pair<box,id>+table rstar<16>");
    addInsert<SegV, bgi::quadratic<16>>(forms, "pair<segment,id> quadratic<16>");
    addInsert<SegV, bgi::linear<16>>(forms, "pair<segment,id> linear<16>");
    addInsert<SegV, bgi::rstar<8>>(forms, "pair<segment,id> rstar<8>");
    addInsert<SegV, bgi::rstar<32>>(forms, "pair<segment,id> rstar<32>");
    addInsert<SegV, bgi::quadratic<8>>(forms, "pair<segment,id> quadratic<8>");
    addInsert<SegV, bgi::quadratic<32>>(forms, "pair<segment,id> quadratic<32>");
    addInsert<SegV, bgi::linear<8>>(forms, "pair<segment,id> linear<8>");
    addInsert<SegV, bgi::linear<32>>(forms, "pair<segment,id> linear<32>");
  }
  if (!filter.empty() && wantQuery)
    forms.erase(std::remove_if(forms.begin(), forms.end(), [&](const Form &f) { return f.workload != filter; }), forms.end());
  runForms(forms, rounds, 5, D.points.size(), [] { return g_allocs; });  // 5 passes per round: one is milliseconds
  return 0;
}
