// GDAL's C API, vector side only: datasets, OGR layers, features, geometries, spatial references.
//
// GDAL is loaded on first use (dlopen), not linked: libgdal pulls in some seventy shared objects
// (HEIF, PDF, NetCDF, …) that every `subterra` process would otherwise load and relocate at start,
// although only imports of GDAL formats need them (Benchmarks/NOTES.md, "GDAL loaded on first
// use"). Every function Swift calls is `sbt_<name>`: it resolves `<name>` once, typed by GDAL's own
// declaration. Call `sbt_gdal_load()` first: it returns NULL when the library is loaded, else
// dlerror()'s message, and then no `sbt_` function may be called.
#include <dlfcn.h>
#include <stddef.h>
// No pkg-config for this module (its libs would link GDAL): Debian keeps the headers in
// /usr/include/gdal, other layouts in the include path itself.
#if __has_include(<gdal/gdal.h>)
#include <gdal/gdal.h>
#include <gdal/ogr_api.h>
#include <gdal/ogr_srs_api.h>
#include <gdal/cpl_conv.h>
#include <gdal/cpl_error.h>
#include <gdal/cpl_string.h>
#else
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#endif

static inline void *sbt_gdal_handle(void) {
    static void *handle;
    void *h = __atomic_load_n(&handle, __ATOMIC_ACQUIRE);
    if (h) return h;
    // The development symlink first (what the build linked against), then release sonames.
    static const char *const names[] = {
        "libgdal.so", "libgdal.so.36", "libgdal.so.35", "libgdal.so.34", "libgdal.so.33", "libgdal.so.32",
        "libgdal.so.31", "libgdal.so.30", "libgdal.so.29", "libgdal.so.28", "libgdal.so.27", "libgdal.so.26",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (h) __atomic_store_n(&handle, h, __ATOMIC_RELEASE);
    return h;
}

/// NULL when GDAL is loaded (and every `sbt_` function resolves), else why not.
static inline const char *sbt_gdal_load(void) {
    if (!sbt_gdal_handle()) {
        const char *why = dlerror();
        return why ? why : "libgdal.so not found";
    }
    if (!dlsym(sbt_gdal_handle(), "GDALOpenEx")) return "libgdal has no GDALOpenEx";
    return NULL;
}

static inline void *sbt_gdal_symbol(void **slot, const char *name) {
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!f) {
        f = dlsym(sbt_gdal_handle(), name);
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

#define SBT_GDAL_FN(ret, name, params, args)                                                \
    static inline ret sbt_##name params {                                                   \
        static void *slot;                                                                  \
        return ((__typeof__(&name))sbt_gdal_symbol(&slot, #name)) args;                     \
    }
#define SBT_GDAL_VOID(name, params, args)                                                   \
    static inline void sbt_##name params {                                                  \
        static void *slot;                                                                  \
        ((__typeof__(&name))sbt_gdal_symbol(&slot, #name)) args;                            \
    }

/// GDAL's quiet error handler, for `sbt_CPLPushErrorHandler`.
static inline CPLErrorHandler sbt_CPLQuietErrorHandler(void) {
    static void *slot;
    return (CPLErrorHandler)sbt_gdal_symbol(&slot, "CPLQuietErrorHandler");
}

SBT_GDAL_VOID(GDALAllRegister, (void), ())
SBT_GDAL_FN(const char *, GDALVersionInfo, (const char *a), (a))
SBT_GDAL_FN(GDALDatasetH, GDALOpenEx,
            (const char *p, unsigned int f, const char *const *d, const char *const *o, const char *const *s), (p, f, d, o, s))
SBT_GDAL_VOID(GDALClose, (GDALDatasetH d), (d))
SBT_GDAL_FN(GDALDriverH, GDALGetDatasetDriver, (GDALDatasetH d), (d))
SBT_GDAL_FN(const char *, GDALGetDriverShortName, (GDALDriverH d), (d))
SBT_GDAL_FN(int, GDALDatasetGetLayerCount, (GDALDatasetH d), (d))
SBT_GDAL_FN(OGRLayerH, GDALDatasetGetLayer, (GDALDatasetH d, int i), (d, i))
SBT_GDAL_FN(OGRLayerH, GDALDatasetGetLayerByName, (GDALDatasetH d, const char *n), (d, n))

SBT_GDAL_VOID(CPLPushErrorHandler, (CPLErrorHandler h), (h))
SBT_GDAL_VOID(CPLPopErrorHandler, (void), ())
SBT_GDAL_VOID(CPLErrorReset, (void), ())
SBT_GDAL_FN(CPLErr, CPLGetLastErrorType, (void), ())
SBT_GDAL_FN(const char *, CPLGetLastErrorMsg, (void), ())
SBT_GDAL_VOID(CPLSetConfigOption, (const char *k, const char *v), (k, v))
SBT_GDAL_VOID(CPLSetThreadLocalConfigOption, (const char *k, const char *v), (k, v))
SBT_GDAL_FN(const char *, CPLGetConfigOption, (const char *k, const char *d), (k, d))
SBT_GDAL_FN(const char *, CPLGetThreadLocalConfigOption, (const char *k, const char *d), (k, d))
SBT_GDAL_VOID(VSIFree, (void *p), (p))

SBT_GDAL_FN(const char *, OGR_L_GetName, (OGRLayerH l), (l))
SBT_GDAL_FN(OGRwkbGeometryType, OGR_L_GetGeomType, (OGRLayerH l), (l))
SBT_GDAL_VOID(OGR_L_ResetReading, (OGRLayerH l), (l))
SBT_GDAL_FN(OGRFeatureH, OGR_L_GetNextFeature, (OGRLayerH l), (l))
SBT_GDAL_FN(OGRFeatureDefnH, OGR_L_GetLayerDefn, (OGRLayerH l), (l))
SBT_GDAL_FN(OGRSpatialReferenceH, OGR_L_GetSpatialRef, (OGRLayerH l), (l))
SBT_GDAL_FN(OGRwkbGeometryType, OGR_GT_Flatten, (OGRwkbGeometryType t), (t))
SBT_GDAL_FN(const char *, OGRGeometryTypeToName, (OGRwkbGeometryType t), (t))
SBT_GDAL_FN(int, OGR_FD_GetFieldCount, (OGRFeatureDefnH d), (d))
SBT_GDAL_FN(OGRFieldDefnH, OGR_FD_GetFieldDefn, (OGRFeatureDefnH d, int i), (d, i))
SBT_GDAL_FN(int, OGR_FD_GetGeomFieldCount, (OGRFeatureDefnH d), (d))
SBT_GDAL_FN(const char *, OGR_Fld_GetNameRef, (OGRFieldDefnH f), (f))
SBT_GDAL_FN(OGRFieldType, OGR_Fld_GetType, (OGRFieldDefnH f), (f))
SBT_GDAL_FN(OGRFieldSubType, OGR_Fld_GetSubType, (OGRFieldDefnH f), (f))
SBT_GDAL_FN(OGRGeometryH, OGR_F_GetGeometryRef, (OGRFeatureH f), (f))
SBT_GDAL_VOID(OGR_F_Destroy, (OGRFeatureH f), (f))
SBT_GDAL_FN(GIntBig, OGR_F_GetFID, (OGRFeatureH f), (f))
SBT_GDAL_FN(int, OGR_F_IsFieldSetAndNotNull, (OGRFeatureH f, int i), (f, i))
SBT_GDAL_FN(const char *, OGR_F_GetFieldAsString, (OGRFeatureH f, int i), (f, i))
SBT_GDAL_FN(GIntBig, OGR_F_GetFieldAsInteger64, (OGRFeatureH f, int i), (f, i))
SBT_GDAL_FN(double, OGR_F_GetFieldAsDouble, (OGRFeatureH f, int i), (f, i))
SBT_GDAL_FN(int, OGR_G_WkbSize, (OGRGeometryH g), (g))
SBT_GDAL_FN(int, OGR_G_IsEmpty, (OGRGeometryH g), (g))
SBT_GDAL_FN(int, OGR_G_HasCurveGeometry, (OGRGeometryH g, int n), (g, n))
SBT_GDAL_FN(OGRGeometryH, OGR_G_GetLinearGeometry, (OGRGeometryH g, double a, const char *const *o), (g, a, o))
SBT_GDAL_FN(OGRwkbGeometryType, OGR_G_GetGeometryType, (OGRGeometryH g), (g))
SBT_GDAL_FN(OGRErr, OGR_G_ExportToIsoWkb, (OGRGeometryH g, OGRwkbByteOrder o, unsigned char *b), (g, o, b))
SBT_GDAL_VOID(OGR_G_DestroyGeometry, (OGRGeometryH g), (g))
SBT_GDAL_FN(const char *, OSRGetAuthorityName, (OGRSpatialReferenceH s, const char *k), (s, k))
SBT_GDAL_FN(const char *, OSRGetAuthorityCode, (OGRSpatialReferenceH s, const char *k), (s, k))
SBT_GDAL_FN(OGRErr, OSRExportToWktEx, (OGRSpatialReferenceH s, char **w, const char *const *o), (s, w, o))
SBT_GDAL_VOID(OSRDestroySpatialReference, (OGRSpatialReferenceH s), (s))
SBT_GDAL_FN(OGRSpatialReferenceH, OSRClone, (OGRSpatialReferenceH s), (s))
SBT_GDAL_FN(OGRErr, OSRAutoIdentifyEPSG, (OGRSpatialReferenceH s), (s))
