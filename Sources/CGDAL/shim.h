// GDAL's C API, vector side only: datasets, OGR layers, features, geometries, spatial references.
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
