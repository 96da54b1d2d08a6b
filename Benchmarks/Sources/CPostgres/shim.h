// libpq (Debian's libpq-dev), for the PostGIS peer of the dig-check benchmark.
#include <libpq-fe.h>
