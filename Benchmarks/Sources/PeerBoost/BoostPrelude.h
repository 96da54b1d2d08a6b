// Boost.Geometry with the R-tree, as the peer and PeerForms/boost-forms.cpp include it.
#pragma once
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
