#!/usr/bin/env bash
# Writes the GDAL import fixtures into DIR (default out/gdal-fixtures) from the bundled sample,
# with ogr2ogr: the heat (RL) and gas (RQ) networks of Datasets/sample, owner and road names in
# Chinese, field names of at most 10 characters (the DBF limit), as
#
#   reference-{segments,points}.geojson   the source of every other file
#   utf8/{segments,points}.shp            Shapefile, UTF-8 DBF with a .cpg
#   utf8-bare/{segments,points}.shp       the UTF-8 files without .cpg (LDID 0)
#   cp936/{segments,points}.shp           Shapefile, CP936 (GBK) DBF with a .cpg
#   cp936-bare/{segments,points}.shp      the same bytes without .cpg and with LDID 0
#   {segments,points}.gml .kml            GML 3.2, KML (WGS84 lon/lat, as KML requires)
#   network.gdb                           FileGDB (OpenFileGDB, GDAL >= 3.6), two feature classes,
#                                         on a 1 mm coordinate grid
#   network.gpkg                          GeoPackage written by GDAL, two tables
#   segments.dxf                          DXF, CAD layers 热力管线 / 燃气管线, $DWGCODEPAGE ANSI_936
#   segments-2013.dxf                     the same as AutoCAD 2013 writes it: AC1027, UTF-8
#   segments-gbk-as-1252.dxf              segments.dxf with a wrong $DWGCODEPAGE ANSI_1252
#   survey/{points,lines}.{csv,dbf}       the Chinese point table + line table deliverable
#                                         (点号, X = northing, Y, 地面高程, 特征, 埋深; 起点号 …)
#
# The tests call this script when ogr2ogr is on PATH (scripts/install-deps.sh installs gdal-bin).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-out/gdal-fixtures}"
SAMPLE=Datasets/sample
# OpenFileGDB writing arrived in GDAL 3.6.
version=$(ogr2ogr --version | sed -E 's/^GDAL ([0-9]+)\.([0-9]+).*/\1 \2/')
read -r major minor <<< "$version"
if [ "$major" -lt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 6 ]; }; then
    echo "make-gdal-fixtures: GDAL >= 3.6 is needed to write FileGDB; found $(ogr2ogr --version)" >&2
    exit 1
fi
rm -rf "$DIR"
mkdir -p "$DIR"/utf8 "$DIR"/utf8-bare "$DIR"/cp936 "$DIR"/cp936-bare "$DIR"/survey

owner="CASE owner WHEN 'Wenling Natural Gas Co.' THEN '温岭市天然气有限公司'
    WHEN 'Wenling Eastern Industrial Steam & Heat Co.' THEN '温岭东部工业蒸汽供热有限公司' ELSE owner END"
road="CASE road WHEN 'Wanchang Road' THEN '万昌路' WHEN 'Xiangyang Street' THEN '向阳街' ELSE road END"
keep="layer IN ('RL', 'RQ')"

ogr2ogr -f GeoJSON "$DIR/reference-segments.geojson" "$SAMPLE/segments.geojson" -nln segments -dialect SQLite -sql "
    SELECT id, layer, subtype, start_point AS start_pt, end_point AS end_pt, start_depth AS s_depth,
        end_depth AS e_depth, start_elevation AS s_elev, end_elevation AS e_elev, elevation_ref AS elev_ref,
        section, material, burial, pressure_mpa AS press_mpa, $owner AS owner, $road AS road, laid, status,
        accuracy_m AS acc_m, accuracy_v_m AS acc_v_m, quality_level AS q_level, geometry
    FROM segments WHERE $keep ORDER BY id"
ogr2ogr -f GeoJSON "$DIR/reference-points.geojson" "$SAMPLE/points.geojson" -nln points -dialect SQLite -sql "
    SELECT number AS point_no, layer, category, kind, ground_elevation AS gnd_elev, depth,
        $owner AS owner, $road AS road, status, geometry
    FROM points WHERE $keep ORDER BY number"

for c in segments points; do
    src="$DIR/reference-$c.geojson"
    ogr2ogr -f "ESRI Shapefile" "$DIR/utf8/$c.shp" "$src" -lco ENCODING=UTF-8
    ogr2ogr -f "ESRI Shapefile" "$DIR/cp936/$c.shp" "$src" -lco ENCODING=CP936
    ogr2ogr -f GML "$DIR/$c.gml" "$src" -dsco FORMAT=GML3.2
    ogr2ogr -f KML "$DIR/$c.kml" "$src"
    # FileGDB keeps coordinates as integers on a grid: a millimetre grid from origin 0 holds
    # the sample's 3-decimal coordinates exactly (GDAL's default grid rounds them by ~1e-7 m).
    ogr2ogr -f OpenFileGDB -update -append "$DIR/network.gdb" "$src" -nln "$c" \
        -lco XORIGIN=0 -lco YORIGIN=0 -lco XYSCALE=1000
    ogr2ogr -f GPKG -update -append "$DIR/network.gpkg" "$src" -nln "$c"
    # No .cpg and LDID 0 (byte 29 of the DBF): the reader must recognise GBK by itself.
    for enc in utf8 cp936; do
        for f in "$DIR/$enc/$c".*; do
            case "$f" in *.cpg) ;; *) cp "$f" "$DIR/$enc-bare/" ;; esac
        done
        printf '\000' | dd of="$DIR/$enc-bare/$c.dbf" bs=1 seek=29 conv=notrunc status=none
    done
done

# DXF: CAD layer names from the utility layer, in GBK under $DWGCODEPAGE ANSI_936 (GDAL writes
# UTF-8 text as \U+XXXX escapes under ANSI_1252; a Chinese CAD program writes code page bytes).
ogr2ogr -f DXF "$DIR/segments-1252.dxf" "$DIR/reference-segments.geojson" -dialect SQLite -sql "
    SELECT CASE layer WHEN 'RL' THEN 'HEAT_LAYER' WHEN 'RQ' THEN 'GAS_LAYER' END AS Layer, geometry
    FROM segments ORDER BY id"
heat=$(printf '热力管线' | iconv -f UTF-8 -t CP936)
gas=$(printf '燃气管线' | iconv -f UTF-8 -t CP936)
LC_ALL=C sed -e "s/HEAT_LAYER/$heat/g" -e "s/GAS_LAYER/$gas/g" -e 's/^ANSI_1252\r\{0,1\}$/ANSI_936/' \
    "$DIR/segments-1252.dxf" > "$DIR/segments.dxf"
rm "$DIR/segments-1252.dxf"
# AutoCAD 2007 and later (AC1021+) write UTF-8 whatever $DWGCODEPAGE says: the same drawing as
# AutoCAD 2013 would save it (AC1027, UTF-8 layer names, ANSI_936 left in the header), and a GBK
# drawing whose header wrongly says ANSI_1252 (read right only with --encoding CP936).
iconv -f CP936 -t UTF-8 "$DIR/segments.dxf" | LC_ALL=C sed -e 's/^AC10[0-9][0-9]\(\r\{0,1\}\)$/AC1027\1/' > "$DIR/segments-2013.dxf"
LC_ALL=C sed -e 's/^ANSI_936\(\r\{0,1\}\)$/ANSI_1252\1/' "$DIR/segments.dxf" > "$DIR/segments-gbk-as-1252.dxf"

# The Chinese survey deliverable: a point table and a line table, joined by point number.
# X is the northing, Y the easting (CJJ 61); coordinates come from the point geometry.
ogr2ogr -f CSV "$DIR/survey/points.csv" "$DIR/reference-points.geojson" -dialect SQLite -sql "
    SELECT point_no AS 点号, printf('%.3f', ST_Y(geometry)) AS X, printf('%.3f', ST_X(geometry)) AS Y,
        gnd_elev AS 地面高程, CASE kind WHEN 'valve' THEN '阀门' WHEN 'tee' THEN '三通' WHEN 'bend' THEN '弯头'
        WHEN 'straight' THEN '直线点' WHEN 'turning-point' THEN '拐点' WHEN 'cap' THEN '盖堵' ELSE kind END AS 特征,
        depth AS 埋深, layer AS 管线类别, owner AS 权属单位 FROM points"
ogr2ogr -f CSV "$DIR/survey/lines.csv" "$DIR/reference-segments.geojson" -dialect SQLite -sql "
    SELECT start_pt AS 起点号, end_pt AS 终点号, s_depth AS 起点埋深, e_depth AS 终点埋深, section AS 管径,
        material AS 材质, layer AS 管线类别, owner AS 权属单位 FROM segments"
ogr2ogr -f "ESRI Shapefile" "$DIR/survey/points.dbf" "$DIR/survey/points.csv" -lco ENCODING=CP936
ogr2ogr -f "ESRI Shapefile" "$DIR/survey/lines.dbf" "$DIR/survey/lines.csv" -lco ENCODING=CP936
rm -f "$DIR"/survey/*.cpg
printf '\000' | dd of="$DIR/survey/points.dbf" bs=1 seek=29 conv=notrunc status=none
printf '\000' | dd of="$DIR/survey/lines.dbf" bs=1 seek=29 conv=notrunc status=none
echo "make-gdal-fixtures: wrote $DIR" >&2
