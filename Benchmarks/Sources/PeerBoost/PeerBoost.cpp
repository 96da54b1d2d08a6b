// Boost.Geometry R-tree peer. Values are (segment, id) pairs so every predicate and the nearest
// search run on the exact segment, not its box: this is the strongest fair opponent for Subterra.
#include "PeerBoost.h"

// Debian 12's Boost 1.74 instantiates mpl::integral_c<E, value - 1> for these unscoped enums, and
// clang >= 16 rejects the out-of-range enum value as not a constant expression (a hard error in
// the Swift 6.3 clang). Boost 1.81 fixed it by giving the enums a fixed underlying type; declare
// them that way first and keep Boost's own headers out via their include guards.
#define BOOST_NUMERIC_CONVERSION_INT_FLOAT_MIXTURE_ENUM_FLC_12NOV2002_HPP
#define BOOST_NUMERIC_CONVERSION_SIGN_MIXTURE_ENUM_FLC_12NOV2002_HPP
#define BOOST_NUMERIC_CONVERSION_UDT_BUILTIN_MIXTURE_ENUM_FLC_12NOV2002_HPP
namespace boost {
namespace numeric {
enum int_float_mixture_enum : int { integral_to_integral, integral_to_float, float_to_integral, float_to_float };
enum sign_mixture_enum : int { unsigned_to_unsigned, signed_to_signed, signed_to_unsigned, unsigned_to_signed };
enum udt_builtin_mixture_enum : int { builtin_to_builtin, builtin_to_udt, udt_to_builtin, udt_to_udt };
}  // namespace numeric
}  // namespace boost

#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>

#include <algorithm>
#include <memory>
#include <new>
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

using params_t = bgi::rstar<16>;
using rtree_t = bgi::rtree<value_t, params_t, bgi::indexable<value_t>, bgi::equal_to<value_t>,
                           counting_allocator<value_t>>;

std::vector<value_t> make_values(const double *v, size_t n) {
  std::vector<value_t> values;
  values.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    values.emplace_back(segment_t(point_t(v[4 * i], v[4 * i + 1]), point_t(v[4 * i + 2], v[4 * i + 3])),
                        static_cast<uint32_t>(i));
  }
  return values;
}

}  // namespace

struct boost_index {
  size_t bytes = 0;  // must outlive tree: declared first
  rtree_t tree;
  explicit boost_index(size_t *counter) : tree(params_t(), bgi::indexable<value_t>(), bgi::equal_to<value_t>(),
                                               counting_allocator<value_t>(counter)) {}
  template <class It>
  boost_index(size_t *counter, It first, It last)
      : tree(first, last, params_t(), bgi::indexable<value_t>(), bgi::equal_to<value_t>(),
             counting_allocator<value_t>(counter)) {}
};

// Placement trick: the counter lives inside the object it counts for, so construct in two steps.
extern "C" boost_index *boost_index_build(const double *v, size_t n) {
  try {
    auto values = make_values(v, n);
    void *raw = ::operator new(sizeof(boost_index));
    size_t *counter = &static_cast<boost_index *>(raw)->bytes;
    *counter = 0;
    auto *idx = new (raw) boost_index(counter, values.begin(), values.end());
    return idx;
  } catch (...) {
    return nullptr;
  }
}

extern "C" boost_index *boost_index_build_insert(const double *v, size_t n) {
  try {
    void *raw = ::operator new(sizeof(boost_index));
    size_t *counter = &static_cast<boost_index *>(raw)->bytes;
    *counter = 0;
    auto *idx = new (raw) boost_index(counter);
    for (size_t i = 0; i < n; ++i) {
      idx->tree.insert(value_t(segment_t(point_t(v[4 * i], v[4 * i + 1]), point_t(v[4 * i + 2], v[4 * i + 3])),
                               static_cast<uint32_t>(i)));
    }
    return idx;
  } catch (...) {
    return nullptr;
  }
}

extern "C" void boost_index_free(boost_index *index) {
  if (!index) return;
  index->~boost_index();
  ::operator delete(static_cast<void *>(index));
}

extern "C" size_t boost_index_bytes(const boost_index *index) { return index ? index->bytes : 0; }
extern "C" size_t boost_index_size(const boost_index *index) { return index ? index->tree.size() : 0; }

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
}  // namespace

extern "C" size_t boost_index_query_box(const boost_index *index, double minx, double miny, double maxx,
                                        double maxy, uint32_t *out, size_t cap) {
  id_sink sink{out, cap};
  box_t b(point_t(minx, miny), point_t(maxx, maxy));
  index->tree.query(bgi::intersects(b), id_iterator{&sink});
  return sink.count;
}

extern "C" size_t boost_index_nearest(const boost_index *index, double x, double y, size_t k, uint32_t *ids,
                                      double *distances, size_t cap) {
  point_t p(x, y);
  size_t count = 0;
  // The query iterator yields values in increasing exact distance, so no sort is needed.
  for (auto it = index->tree.qbegin(bgi::nearest(p, static_cast<unsigned>(k))); it != index->tree.qend(); ++it) {
    if (count < cap) {
      ids[count] = it->second;
      distances[count] = bg::distance(p, it->first);
    }
    ++count;
  }
  return count;
}

extern "C" size_t boost_index_within(const boost_index *index, double x, double y, double r, uint32_t *out,
                                     size_t cap) {
  point_t p(x, y);
  box_t b(point_t(x - r, y - r), point_t(x + r, y + r));
  id_sink sink{out, cap};
  index->tree.query(bgi::intersects(b) && bgi::satisfies([&](const value_t &v) { return bg::distance(p, v.first) <= r; }),
                    id_iterator{&sink});
  return sink.count;
}

extern "C" size_t boost_index_polygon_within(const boost_index *index, const double *ring, size_t nverts, double r,
                                             uint32_t *out, size_t cap) {
  polygon_t poly;
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
  index->tree.query(bgi::intersects(b) && bgi::satisfies([&](const value_t &v) { return bg::distance(v.first, poly) <= r; }),
                    id_iterator{&sink});
  return sink.count;
}
