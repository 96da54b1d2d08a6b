// GDAL's C API, vector side only: datasets, OGR layers, features, geometries, spatial references.
//
// GDAL is loaded on first use (dlopen), not linked: libgdal pulls in some seventy shared objects
// (HEIF, PDF, NetCDF, …) that every `subterra` process would otherwise load and relocate at start,
// although only imports of GDAL formats need them (Benchmarks/NOTES.md, "GDAL loaded on first
// use"). Every function Swift calls is `sbt_<name>`: it resolves `<name>` once, typed by GDAL's own
// declaration. Call `sbt_gdal_load()` first: it returns NULL when the library is loaded and every
// listed function resolves, else why not, and then no `sbt_` function may be called.
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
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

// Every GDAL function Swift calls, once: `X_FN(return type, name, (parameters), (arguments))`,
// `X_VOID(name, (parameters), (arguments))`. The wrappers and the load-time check come from it.
#define SBT_GDAL_FUNCTIONS(X_FN, X_VOID) \
    X_VOID(GDALAllRegister, (void), ()) \
    X_FN(const char *, GDALVersionInfo, (const char *a), (a)) \
    X_FN(GDALDatasetH, GDALOpenEx, \
    (const char *p, unsigned int f, const char *const *d, const char *const *o, const char *const *s), (p, f, d, o, s)) \
    X_VOID(GDALClose, (GDALDatasetH d), (d)) \
    X_FN(GDALDriverH, GDALGetDatasetDriver, (GDALDatasetH d), (d)) \
    X_FN(const char *, GDALGetDriverShortName, (GDALDriverH d), (d)) \
    X_FN(int, GDALDatasetGetLayerCount, (GDALDatasetH d), (d)) \
    X_FN(OGRLayerH, GDALDatasetGetLayer, (GDALDatasetH d, int i), (d, i)) \
    X_FN(OGRLayerH, GDALDatasetGetLayerByName, (GDALDatasetH d, const char *n), (d, n)) \
    X_VOID(CPLPushErrorHandler, (CPLErrorHandler h), (h)) \
    X_VOID(CPLPopErrorHandler, (void), ()) \
    X_VOID(CPLErrorReset, (void), ()) \
    X_FN(CPLErr, CPLGetLastErrorType, (void), ()) \
    X_FN(const char *, CPLGetLastErrorMsg, (void), ()) \
    X_VOID(CPLSetConfigOption, (const char *k, const char *v), (k, v)) \
    X_VOID(CPLSetThreadLocalConfigOption, (const char *k, const char *v), (k, v)) \
    X_FN(const char *, CPLGetConfigOption, (const char *k, const char *d), (k, d)) \
    X_FN(const char *, CPLGetThreadLocalConfigOption, (const char *k, const char *d), (k, d)) \
    X_VOID(VSIFree, (void *p), (p)) \
    X_FN(const char *, OGR_L_GetName, (OGRLayerH l), (l)) \
    X_FN(OGRwkbGeometryType, OGR_L_GetGeomType, (OGRLayerH l), (l)) \
    X_VOID(OGR_L_ResetReading, (OGRLayerH l), (l)) \
    X_FN(OGRFeatureH, OGR_L_GetNextFeature, (OGRLayerH l), (l)) \
    X_FN(OGRFeatureDefnH, OGR_L_GetLayerDefn, (OGRLayerH l), (l)) \
    X_FN(OGRSpatialReferenceH, OGR_L_GetSpatialRef, (OGRLayerH l), (l)) \
    X_FN(OGRwkbGeometryType, OGR_GT_Flatten, (OGRwkbGeometryType t), (t)) \
    X_FN(const char *, OGRGeometryTypeToName, (OGRwkbGeometryType t), (t)) \
    X_FN(int, OGR_FD_GetFieldCount, (OGRFeatureDefnH d), (d)) \
    X_FN(OGRFieldDefnH, OGR_FD_GetFieldDefn, (OGRFeatureDefnH d, int i), (d, i)) \
    X_FN(int, OGR_FD_GetGeomFieldCount, (OGRFeatureDefnH d), (d)) \
    X_FN(const char *, OGR_Fld_GetNameRef, (OGRFieldDefnH f), (f)) \
    X_FN(OGRFieldType, OGR_Fld_GetType, (OGRFieldDefnH f), (f)) \
    X_FN(OGRFieldSubType, OGR_Fld_GetSubType, (OGRFieldDefnH f), (f)) \
    X_FN(OGRGeometryH, OGR_F_GetGeometryRef, (OGRFeatureH f), (f)) \
    X_VOID(OGR_F_Destroy, (OGRFeatureH f), (f)) \
    X_FN(GIntBig, OGR_F_GetFID, (OGRFeatureH f), (f)) \
    X_FN(int, OGR_F_IsFieldSetAndNotNull, (OGRFeatureH f, int i), (f, i)) \
    X_FN(const char *, OGR_F_GetFieldAsString, (OGRFeatureH f, int i), (f, i)) \
    X_FN(GIntBig, OGR_F_GetFieldAsInteger64, (OGRFeatureH f, int i), (f, i)) \
    X_FN(double, OGR_F_GetFieldAsDouble, (OGRFeatureH f, int i), (f, i)) \
    X_FN(int, OGR_G_WkbSize, (OGRGeometryH g), (g)) \
    X_FN(int, OGR_G_IsEmpty, (OGRGeometryH g), (g)) \
    X_FN(int, OGR_G_HasCurveGeometry, (OGRGeometryH g, int n), (g, n)) \
    X_FN(OGRGeometryH, OGR_G_GetLinearGeometry, (OGRGeometryH g, double a, const char *const *o), (g, a, o)) \
    X_FN(OGRwkbGeometryType, OGR_G_GetGeometryType, (OGRGeometryH g), (g)) \
    X_FN(OGRErr, OGR_G_ExportToIsoWkb, (OGRGeometryH g, OGRwkbByteOrder o, unsigned char *b), (g, o, b)) \
    X_VOID(OGR_G_DestroyGeometry, (OGRGeometryH g), (g)) \
    X_FN(const char *, OSRGetAuthorityName, (OGRSpatialReferenceH s, const char *k), (s, k)) \
    X_FN(const char *, OSRGetAuthorityCode, (OGRSpatialReferenceH s, const char *k), (s, k)) \
    X_FN(OGRErr, OSRExportToWktEx, (OGRSpatialReferenceH s, char **w, const char *const *o), (s, w, o)) \
    X_VOID(OSRDestroySpatialReference, (OGRSpatialReferenceH s), (s)) \
    X_FN(OGRSpatialReferenceH, OSRClone, (OGRSpatialReferenceH s), (s)) \
    X_FN(OGRErr, OSRAutoIdentifyEPSG, (OGRSpatialReferenceH s), (s))

/// The names of every function in the list, for the load-time check.
#define SBT_GDAL_NAME_FN(ret, name, params, args) #name,
#define SBT_GDAL_NAME_VOID(name, params, args) #name,
static const char *const sbt_gdal_names[] = { SBT_GDAL_FUNCTIONS(SBT_GDAL_NAME_FN, SBT_GDAL_NAME_VOID) "CPLQuietErrorHandler" };

/// The first loader error (of the development symlink), kept for the message.
static inline char *sbt_gdal_first_error(void) {
    static char buffer[512];
    return buffer;
}

static inline void *sbt_gdal_handle(void) {
    static void *handle;
    void *h = __atomic_load_n(&handle, __ATOMIC_ACQUIRE);
    if (h) return h;
    // The development symlink first (what the build compiled against), then release sonames.
    h = dlopen("libgdal.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        if (why) snprintf(sbt_gdal_first_error(), 512, "%s", why);
    }
    for (int v = 60; v >= 20 && !h; v--) {
        char name[32];
        snprintf(name, sizeof name, "libgdal.so.%d", v);
        h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    }
    if (h) __atomic_store_n(&handle, h, __ATOMIC_RELEASE);
    return h;
}

/// NULL when GDAL is loaded and every function of the list resolves, else why not (the first
/// loader error, or the first missing function). No `sbt_` function may be called before it
/// returned NULL.
static inline const char *sbt_gdal_load(void) {
    static char why[600];
    void *h = sbt_gdal_handle();
    if (!h) {
        snprintf(why, sizeof why, "%s (nor libgdal.so.20 to .60)", sbt_gdal_first_error()[0] ? sbt_gdal_first_error() : "libgdal.so not found");
        return why;
    }
    for (size_t i = 0; i < sizeof sbt_gdal_names / sizeof sbt_gdal_names[0]; i++) {
        if (!dlsym(h, sbt_gdal_names[i])) {
            snprintf(why, sizeof why, "the loaded libgdal has no %s", sbt_gdal_names[i]);
            return why;
        }
    }
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

#define SBT_GDAL_WRAP_FN(ret, name, params, args)                                            \
    static inline ret sbt_##name params {                                                   \
        static void *slot;                                                                  \
        return ((__typeof__(&name))sbt_gdal_symbol(&slot, #name)) args;                     \
    }
#define SBT_GDAL_WRAP_VOID(name, params, args)                                               \
    static inline void sbt_##name params {                                                  \
        static void *slot;                                                                  \
        ((__typeof__(&name))sbt_gdal_symbol(&slot, #name)) args;                            \
    }
SBT_GDAL_FUNCTIONS(SBT_GDAL_WRAP_FN, SBT_GDAL_WRAP_VOID)

/// GDAL's quiet error handler, for `sbt_CPLPushErrorHandler`.
static inline CPLErrorHandler sbt_CPLQuietErrorHandler(void) {
    static void *slot;
    return (CPLErrorHandler)sbt_gdal_symbol(&slot, "CPLQuietErrorHandler");
}
