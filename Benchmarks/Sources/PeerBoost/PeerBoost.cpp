// Boost.Geometry R-tree peer. Values are (segment, id) pairs so every predicate and the nearest
// search run on the exact segment, not its box: this is the strongest fair opponent for Subterra
// (a box-valued tree with a separate segment table ranks nearest by box, and measured slower on
// window and polygon; see Benchmarks/README.md, "Peers at their best", for every form tried).
#include "PeerBoost.h"

#include "BoostPrelude.h"

#include <boost/range/adaptor/transformed.hpp>
#include <boost/range/irange.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

namespace {

using point_t = bg::model::point<double, 2, bg::cs::cartesian>;
using box_t = bg::model::box<point_t>;
using segment_t = bg::model::segment<point_t>;
using polygon_t = bg::model::polygon<point_t, true, false>;  // clockwise, open ring
using value_t = std::pair<segment_t, uint32_t>;

// Stateful allocator that adds every allocation to a counter owned by the index, so the index
// can report its own size without malloc hooks.
template <class T> struct counting_allocator {
  using value_type = T;
  size_t *counter;
  explicit counting_allocator(size_t *c) noexcept : counter(c) {}
  template <class U> counting_allocator(const counting_allocator<U> &o) noexcept : counter(o.counter) {}
  T *allocate(size_t n) {
    *counter += n * sizeof(T);
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T *p, size_t n) noexcept {
    *counter -= n * sizeof(T);
    std::allocator<T>().deallocate(p, n);
  }
  template <class U> bool operator==(const counting_allocator<U> &o) const noexcept { return counter == o.counter; }
  template <class U> bool operator!=(const counting_allocator<U> &o) const noexcept { return counter != o.counter; }
};

// Chosen by measurement (Benchmarks/README.md, "Peers at their best"; PeerForms/boost-forms.cpp):
// the packing constructor builds the same tree whatever the split algorithm, and node size 8
// answered every query workload faster than 16 or 32 (8 % slower to build); one-by-one
// insertion is 6x faster with the linear split than with R* (quadratic: 3x).
using packed_params_t = bgi::rstar<8>;
using dynamic_params_t = bgi::linear<16>;
template <class Params>
using tree_t = bgi::rtree<value_t, Params, bgi::indexable<value_t>, bgi::equal_to<value_t>, counting_allocator<value_t>>;

value_t make_value(const double *v, size_t i) {
  return value_t(segment_t(point_t(v[4 * i], v[4 * i + 1]), point_t(v[4 * i + 2], v[4 * i + 3])),
                 static_cast<uint32_t>(i));
}

}  // namespace

struct boost_index {
  size_t bytes = 0;  // the trees' allocator adds to it: declared first, so it outlives them
  // Exactly one of the two is set: the packed tree (boost_index_build) or the inserted one.
  std::optional<tree_t<packed_params_t>> packed;
  std::optional<tree_t<dynamic_params_t>> dynamic;
  // kNN scratch reused across queries (one thread at a time uses an index): the values
  // query(nearest) writes, and their exact distances for the (distance, id) sort.
  std::vector<value_t> knn;
  std::vector<std::pair<double, uint32_t>> ranked;
  // Dig polygon reused across queries, so its ring's storage is allocated once.
  polygon_t poly;

  // Calls f with whichever tree this index holds.
  template <class F> auto visit(F &&f) const { return packed ? f(*packed) : f(*dynamic); }
};

extern "C" boost_index *boost_index_build(const double *v, size_t n) {
  try {
    // The packing constructor over a transformed index range: no intermediate vector of values
    // (7 % faster than packing a filled std::vector, and less peak memory).
    auto values = boost::irange<size_t>(0, n) | boost::adaptors::transformed([v](size_t i) { return make_value(v, i); });
    auto idx = std::make_unique<boost_index>();
    idx->packed.emplace(values, packed_params_t(), bgi::indexable<value_t>(), bgi::equal_to<value_t>(),
                        counting_allocator<value_t>(&idx->bytes));
    return idx.release();
  } catch (...) {
    return nullptr;
  }
}

extern "C" boost_index *boost_index_build_insert(const double *v, size_t n) {
  try {
    auto idx = std::make_unique<boost_index>();
    auto &tree = idx->dynamic.emplace(dynamic_params_t(), bgi::indexable<value_t>(), bgi::equal_to<value_t>(),
                                      counting_allocator<value_t>(&idx->bytes));
    for (size_t i = 0; i < n; ++i) {
      tree.insert(make_value(v, i));
    }
    return idx.release();
  } catch (...) {
    return nullptr;
  }
}

extern "C" void boost_index_free(boost_index *index) { delete index; }

extern "C" size_t boost_index_bytes(const boost_index *index) { return index ? index->bytes : 0; }
extern "C" size_t boost_index_size(const boost_index *index) {
  return index ? index->visit([](const auto &t) { return t.size(); }) : 0;
}

namespace {
// Output iterator that writes ids into the caller's buffer and keeps counting past its end.
struct id_sink {
  uint32_t *out;
  size_t cap;
  size_t count = 0;
};
struct id_iterator {
  using iterator_category = std::output_iterator_tag;
  using value_type = void;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = void;
  id_sink *sink;
  id_iterator &operator*() { return *this; }
  id_iterator &operator++() { return *this; }
  id_iterator operator++(int) { return *this; }
  id_iterator &operator=(const value_t &v) {
    if (sink->count < sink->cap) sink->out[sink->count] = v.second;
    ++sink->count;
    return *this;
  }
};
// Output iterator into a buffer sized beforehand (query(nearest(p, k)) writes at most k values).
struct value_iterator {
  using iterator_category = std::output_iterator_tag;
  using value_type = void;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = void;
  value_t *p;
  value_iterator &operator*() { return *this; }
  value_iterator &operator++() { return *this; }
  value_iterator operator++(int) { return *this; }
  value_iterator &operator=(const value_t &v) {
    *p++ = v;
    return *this;
  }
};
}  // namespace

extern "C" size_t boost_index_query_box(const boost_index *index, double minx, double miny, double maxx,
                                        double maxy, uint32_t *out, size_t cap) {
  id_sink sink{out, cap};
  box_t b(point_t(minx, miny), point_t(maxx, maxy));
  index->visit([&](const auto &tree) { return tree.query(bgi::intersects(b), id_iterator{&sink}); });
  return sink.count;
}

// query(bgi::nearest(p, k), out) into the index's reused buffer: faster than walking
// qbegin/qend and 1 allocation per query instead of 11-12 (Benchmarks/README.md, "Peers at their
// best"). query() returns the k nearest in no particular order, so they are sorted here by
// (exact distance, id), the order the gate compares.
extern "C" size_t boost_index_nearest(boost_index *index, double x, double y, size_t k, uint32_t *ids,
                                      double *distances, size_t cap) {
  point_t p(x, y);
  if (index->knn.size() < k) index->knn.resize(k);
  value_t *buffer = index->knn.data();
  size_t count = index->visit([&](const auto &tree) {
    return tree.query(bgi::nearest(p, static_cast<unsigned>(k)), value_iterator{buffer});
  });
  auto &ranked = index->ranked;
  ranked.clear();
  for (size_t i = 0; i < count; ++i) ranked.emplace_back(bg::distance(p, index->knn[i].first), index->knn[i].second);
  std::sort(ranked.begin(), ranked.end());
  for (size_t i = 0; i < count && i < cap; ++i) {
    ids[i] = ranked[i].second;
    distances[i] = ranked[i].first;
  }
  return count;
}

extern "C" size_t boost_index_within(const boost_index *index, double x, double y, double r, uint32_t *out,
                                     size_t cap) {
  point_t p(x, y);
  box_t b(point_t(x - r, y - r), point_t(x + r, y + r));
  id_sink sink{out, cap};
  // comparable_distance (squared, no square root) against r * r: the faster documented form.
  const double rr = r * r;
  index->visit([&](const auto &tree) {
    return tree.query(
        bgi::intersects(b) && bgi::satisfies([&](const value_t &v) { return bg::comparable_distance(p, v.first) <= rr; }),
        id_iterator{&sink});
  });
  return sink.count;
}

extern "C" size_t boost_index_polygon_within(boost_index *index, const double *ring, size_t nverts, double r,
                                             uint32_t *out, size_t cap) {
  polygon_t &poly = index->poly;
  poly.outer().clear();
  double minx = ring[0], miny = ring[1], maxx = ring[0], maxy = ring[1];
  for (size_t i = 0; i < nverts; ++i) {
    bg::append(poly.outer(), point_t(ring[2 * i], ring[2 * i + 1]));
    minx = std::min(minx, ring[2 * i]);
    maxx = std::max(maxx, ring[2 * i]);
    miny = std::min(miny, ring[2 * i + 1]);
    maxy = std::max(maxy, ring[2 * i + 1]);
  }
  bg::correct(poly);  // fixes orientation so the interior is the inside
  box_t b(point_t(minx - r, miny - r), point_t(maxx + r, maxy + r));
  id_sink sink{out, cap};
  // comparable_distance (squared; 0 inside the polygon) against r * r: the faster documented form.
  const double rr = r * r;
  index->visit([&](const auto &tree) {
    return tree.query(
        bgi::intersects(b) && bgi::satisfies([&](const value_t &v) { return bg::comparable_distance(v.first, poly) <= rr; }),
        id_iterator{&sink});
  });
  return sink.count;
}
