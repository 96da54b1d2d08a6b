#!/usr/bin/env bash
# Installs the system libraries Subterra builds against and the tools its tests use as oracles.
# Idempotent: installs only what is missing, so it is cheap to run before every build.
# SUBTERRA_BROWSER_DEPS=1 (scripts/test.sh sets it) adds what the browser test needs;
# SUBTERRA_API_DEPS=1 (likewise) schemathesis for the API fuzzing run;
# SUBTERRA_WNTR_DEPS=1 (likewise) WNTR for the valve-segments oracle.
set -euo pipefail

packages=(
    pkg-config
    libgeos-dev      # GEOS C API: buffers, overlays, validity; oracle in tests
    libproj-dev      # PROJ: coordinate systems
    proj-bin         # cs2cs: reference values for the PROJ bridge tests
    proj-data
    libsqlite3-dev   # GeoPackage store
    gdal-bin         # ogrinfo: proves QGIS/GDAL read the GeoPackages we write; ogr2ogr: GDAL import fixtures
    libgdal-dev      # GDAL C API: Shapefile, DXF, GML, KML, FileGDB import (SubterraGDAL)
    postgresql-15    # the PostGIS store's tests: a throwaway primary + replica (scripts/with-postgres.sh)
    postgresql-15-postgis-3
    openssl          # with-postgres.sh: the test servers' TLS certificates
)
if [ "${SUBTERRA_BROWSER_DEPS:-0}" = 1 ]; then
    # The planners' page test (Tests/browser): headless Chromium driven by Selenium; Leaflet is
    # the source of the copy in Sources/SubterraService/Public/leaflet; a CJK font so the Chinese
    # screenshot shows characters, not empty boxes (WenQuanYi Micro Hei: 5 MB, not Noto's 60+).
    packages+=(chromium chromium-driver libjs-leaflet python3 python3-venv fonts-wqy-microhei)
fi
if [ "${SUBTERRA_API_DEPS:-0}" = 1 ] || [ "${SUBTERRA_WNTR_DEPS:-0}" = 1 ]; then
    packages+=(python3 python3-venv)
fi
if [ "${SUBTERRA_BENCH_DEPS:-0}" = 1 ]; then
    packages+=(libboost-dev)   # Boost.Geometry rtree, the benchmark peer
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        echo "install-deps: swift is at /opt/swift/usr/bin; add it to PATH" >&2
    else
        echo "install-deps: no Swift toolchain found (Swift 6.1 or later is required)" >&2
        exit 1
    fi
fi

# Python tools from PyPI, each in a virtual environment of its own under .build (Debian's Python
# refuses pip installs into the system; their dependencies are pinned differently).
pypi_venv() { # name, module to import, requirements
    local venv
    venv="$(cd "$(dirname "$0")/.." && pwd)/.build/$1"
    if ! "$venv/bin/python" -c "import $2" 2>/dev/null; then
        echo "install-deps: installing ${*:3} (PyPI) into $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check "${@:3}"
    fi
}
# Selenium drives the system chromium through chromium-driver (the browser test).
if [ "${SUBTERRA_BROWSER_DEPS:-0}" = 1 ]; then pypi_venv browser-venv selenium 'selenium>=4.10,<5'; fi
# Schemathesis fuzzes the running service against /openapi.json (Tests/api/run_schemathesis.py).
if [ "${SUBTERRA_API_DEPS:-0}" = 1 ]; then pypi_venv api-venv schemathesis 'schemathesis>=4.10,<5'; fi
# WNTR's valve_segments is the oracle of `subterra valve-segments` (Tests/wntr/wntr_segments_oracle.py).
# WNTR 1.5 imports six without requiring it (python-dateutil 2.x brought it; 4.0 does not).
if [ "${SUBTERRA_WNTR_DEPS:-0}" = 1 ]; then pypi_venv wntr-venv wntr 'wntr>=1.5,<2' 'six>=1.16,<2'; fi
