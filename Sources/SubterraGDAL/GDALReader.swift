import CGDAL
import Foundation
import SubterraGeometry
import SubterraModel

/// One layer of a GDAL-readable file as source records, ready for ``GDALReader/source(path:content:mapping:layer:encoding:)``.
public struct GDALLayerRecords: Sendable {
    /// The features in the layer's order, located by OGR feature id (`fid`), fields in the layer's
    /// order, geometry decoded from ISO WKB.
    public var records: [SourceRecord]
    /// The layer's CRS as `AUTHORITY:CODE` when GDAL can name it, else as WKT2; nil when the file
    /// declares none (a bare `.dbf`, a DXF).
    public var crs: String?
    /// The layer read.
    public var layer: String
    /// GDAL's short driver name (`ESRI Shapefile`, `DXF`, `GML`, `KML`, `LIBKML`, `OpenFileGDB`, `GPKG`).
    public var driver: String
    /// How a DBF's or DXF's text was decoded (for a DXF only when its header did not decide:
    /// given, or UTF-8 for AutoCAD 2007+); nil for other drivers.
    public var encoding: DBFEncoding.Decision?
    /// Features whose curved geometry (arcs of DXF, GML, FileGDB) was approximated by line segments.
    public var linearized: Int
}

/// Reads vector files through GDAL's C API (OGR) into ``SourceRecord``s, so Shapefile, DXF, GML,
/// KML, FileGDB and foreign GeoPackages go through the importer's mapping, CRS and quality path
/// exactly like GeoJSON and CSV (``ImportSource/Format/records(_:crs:)``).
///
/// Geometry is exported as ISO WKB (`OGR_G_ExportToIsoWkb`) and decoded by ``WKB/read(_:limits:)``,
/// so coordinates arrive bit for bit. Curves are linearized by GDAL first (the model has no arcs).
/// Coordinates are in GDAL's traditional GIS order (easting/longitude first), which is what the
/// importer's transformer expects.
///
/// Reading opens the file read-only; GDAL's error handler is silenced for the call and its last
/// message is put into the thrown ``ImportError``.
public enum GDALReader {
    /// Loads GDAL (on first use: the `subterra` process does not link it, see `CGDAL`) and
    /// registers its drivers, once per process; nil when ready, else why GDAL cannot be used.
    private static let unavailable: String? = {
        if let why = sbt_gdal_load() {
            return "GDAL is not installed or cannot be loaded (\(String(cString: why))); install it with "
                + "`apt-get install libgdal-dev` (scripts/install-deps.sh does)"
        }
        sbt_GDALAllRegister()
        return nil
    }()

    /// Loads GDAL if needed; throws naming `path` when it cannot be.
    static func ready(_ path: String) throws(ImportError) {
        if let why = unavailable { throw ImportError(why, file: path) }
    }

    /// The GDAL release name (`3.6.2`), or why GDAL cannot be loaded.
    public static var version: String {
        if let why = unavailable { return "unavailable: \(why)" }
        return String(cString: sbt_GDALVersionInfo("RELEASE_NAME"))
    }

    /// File extensions this module reads (lower case); `.gpkg` is read natively unless asked.
    public static let extensions: Set<String> = ["shp", "dbf", "dxf", "gml", "kml", "kmz", "gdb", "gpkg"]

    /// Whether GDAL's DBF encoding rule (``DBFEncoding``) applies to `path`.
    static func isDBF(_ path: String) -> Bool {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        return ext == "shp" || ext == "dbf"
    }

    /// An import source for `path`: its records (read now) with the layer's CRS.
    ///
    /// - Parameters:
    ///   - layer: the layer to read; nil picks the only layer, else the only one whose geometry
    ///     type fits `content`.
    ///   - encoding: forces the text encoding (`CP936`, `UTF-8`, …) of a DBF (instead of
    ///     ``DBFEncoding``'s rule) or a DXF (instead of ``dxfEncoding(path:)``'s).
    /// - Throws: `ImportError` when GDAL cannot open the file, the layer is unknown or ambiguous,
    ///   or the DBF cannot be read.
    public static func source(
        path: String, content: ImportSource.Content, mapping: FieldMapping, layer: String? = nil, encoding: String? = nil
    ) throws(ImportError) -> ImportSource {
        let read = try records(path: path, content: content, layer: layer, encoding: encoding)
        return ImportSource(path: path, format: .records(read.records, crs: read.crs), content: content, mapping: mapping)
    }

    /// One layer of a file, as ``layers(path:)`` lists it.
    public struct LayerInfo: Hashable, Sendable {
        public var name: String
        /// What the layer holds: by geometry type; a table without geometry (a bare DBF) holds
        /// segments when a field name contains `起点` or `start` (a line table), else points; a
        /// layer of unknown type (KML) by its first feature; nil for a DXF's entities (labels
        /// and lines mixed) and other geometry (polygons).
        public var content: ImportSource.Content?
    }

    /// The layers of `path` and what each holds, so a caller can import every layer of a
    /// FileGDB or GeoPackage without naming them.
    ///
    /// - Parameter encoding: as for ``records(path:content:layer:encoding:)`` (field names of a
    ///   DBF are text too).
    /// - Throws: `ImportError` when GDAL cannot open the file.
    public static func layers(path: String, encoding: String? = nil) throws(ImportError) -> [LayerInfo] {
        let (ds, _) = try open(path, encoding: encoding)
        defer { sbt_GDALClose(ds) }
        sbt_CPLPushErrorHandler(sbt_CPLQuietErrorHandler())
        defer { sbt_CPLPopErrorHandler() }
        let driver = sbt_GDALGetDatasetDriver(ds).map { String(cString: sbt_GDALGetDriverShortName($0)) }
        return (0..<sbt_GDALDatasetGetLayerCount(ds)).compactMap { sbt_GDALDatasetGetLayer(ds, $0) }.map { l in
            let type = sbt_OGR_L_GetGeomType(l)
            var content: ImportSource.Content? = fits(type, .points) ? .points : fits(type, .segments) ? .segments : fits(type, .areas) ? .areas : nil
            if type == wkbNone {
                let defn = sbt_OGR_L_GetLayerDefn(l)
                let names = (0..<sbt_OGR_FD_GetFieldCount(defn)).map { String(cString: sbt_OGR_Fld_GetNameRef(sbt_OGR_FD_GetFieldDefn(defn, $0))) }
                content = names.contains { $0.contains("起点") || $0.lowercased().contains("start") } ? .segments : .points
            }
            // A layer of unknown geometry type (KML) by its first feature, as GeoJSON files are;
            // not a DXF, whose entities mix labels and lines.
            if content == nil, sbt_OGR_GT_Flatten(type) == wkbUnknown, driver != "DXF", let f = sbt_OGR_L_GetNextFeature(l) {
                defer { sbt_OGR_F_Destroy(f); sbt_OGR_L_ResetReading(l) }
                if let g = sbt_OGR_F_GetGeometryRef(f) {
                    let t = sbt_OGR_G_GetGeometryType(g)
                    content = fits(t, .points) ? .points : fits(t, .segments) ? .segments : fits(t, .areas) ? .areas : nil
                }
            }
            return LayerInfo(name: String(cString: sbt_OGR_L_GetName(l)), content: content)
        }
    }

    /// Reads one layer of `path` (see ``source(path:content:mapping:layer:encoding:)``).
    ///
    /// - Complexity: O(n) in features and fields; the whole layer is held in memory.
    public static func records(
        path: String, content: ImportSource.Content, layer: String? = nil, encoding: String? = nil
    ) throws(ImportError) -> GDALLayerRecords {
        let (ds, decision) = try open(path, encoding: encoding)
        defer { sbt_GDALClose(ds) }
        sbt_CPLPushErrorHandler(sbt_CPLQuietErrorHandler())
        defer { sbt_CPLPopErrorHandler() }
        let driver = sbt_GDALGetDatasetDriver(ds).map { String(cString: sbt_GDALGetDriverShortName($0)) } ?? "?"
        let chosen = try pickLayer(ds, name: layer, content: content, path: path)
        let layerName = String(cString: sbt_OGR_L_GetName(chosen))
        var read = GDALLayerRecords(records: [], crs: crsName(sbt_OGR_L_GetSpatialRef(chosen)), layer: layerName,
                                    driver: driver, encoding: decision, linearized: 0)
        try readFeatures(chosen, path: path, into: &read)
        return read
    }

    /// The text encoding of the DXF drawing at `path` when its header alone does not give it:
    /// `UTF-8` for AutoCAD 2007 and later (`$ACADVER` AC1021 or above), which write UTF-8
    /// whatever `$DWGCODEPAGE` says (GDAL 3.6 would decode them by the code page, `ANSI_936` as
    /// GBK); nil for older drawings, whose `$DWGCODEPAGE` GDAL honours, and for a binary DXF or
    /// a header without `$ACADVER`. Reads at most the first 64 KiB (the header comes first).
    public static func dxfEncoding(path: String) -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard let head = try? h.read(upToCount: 65_536), !head.starts(with: Array("AutoCAD Binary DXF".utf8)) else { return nil }
        // Group code and value lines alternate: "$ACADVER", "  1", "AC1027".
        let lines = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).prefix(4096)
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        guard let i = lines.firstIndex(of: "$ACADVER"), i + 2 < lines.count, lines[i + 2].hasPrefix("AC"),
            let release = Int(lines[i + 2].dropFirst(2))
        else { return nil }
        return release >= 1021 ? "UTF-8" : nil
    }

    /// Opens `path` read-only for vector access, with the DBF encoding of ``DBFEncoding``'s rule
    /// (or `encoding`) for Shapefiles and DBF tables, and for a DXF `encoding` or
    /// ``dxfEncoding(path:)`` (through GDAL's `DXF_ENCODING`, set for this thread while the file
    /// is opened, which is when the DXF driver reads it). The caller closes the dataset.
    static func open(_ path: String, encoding: String?) throws(ImportError) -> (GDALDatasetH, DBFEncoding.Decision?) {
        try ready(path)
        guard FileManager.default.fileExists(atPath: path) else { throw ImportError("file does not exist", file: path) }
        if URL(fileURLWithPath: path).pathExtension.lowercased() == "dxf", let dxf = encoding ?? dxfEncoding(path: path) {
            let previous = sbt_CPLGetThreadLocalConfigOption("DXF_ENCODING", nil).map { String(cString: $0) }
            sbt_CPLSetThreadLocalConfigOption("DXF_ENCODING", dxf)
            defer { sbt_CPLSetThreadLocalConfigOption("DXF_ENCODING", previous) }
            let (ds, _) = try open(path, encoding: nil, dbf: false)
            return (ds, DBFEncoding.Decision(encoding: dxf, reason: encoding == nil ? "AutoCAD 2007+ DXF ($ACADVER AC1021 or later)" : "given"))
        }
        return try open(path, encoding: encoding, dbf: isDBF(path))
    }

    /// ``open(_:encoding:)`` after the DXF encoding is settled; `dbf`: whether the DBF rule applies.
    private static func open(_ path: String, encoding: String?, dbf: Bool) throws(ImportError) -> (GDALDatasetH, DBFEncoding.Decision?) {
        var decision: DBFEncoding.Decision?
        if dbf {
            if let encoding {
                decision = DBFEncoding.Decision(encoding: encoding, reason: "given")
            } else {
                let dbf = URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension("dbf").path
                let dbfPath = FileManager.default.fileExists(atPath: dbf)
                    ? dbf : URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension("DBF").path
                if FileManager.default.fileExists(atPath: dbfPath) {
                    do { decision = try DBFEncoding.decide(dbfPath: dbfPath) } catch {
                        throw ImportError("cannot read the DBF table: \(error.localizedDescription)", file: dbfPath)
                    }
                }
            }
        }
        var options: [String] = []
        if let e = decision?.encoding { options.append("ENCODING=\(e)") }
        sbt_CPLPushErrorHandler(sbt_CPLQuietErrorHandler())
        defer { sbt_CPLPopErrorHandler() }
        sbt_CPLErrorReset()
        let cOptions: [UnsafeMutablePointer<CChar>?] = options.map { strdup($0) } + [nil]
        defer { for p in cOptions { free(p) } }
        let flags = UInt32(GDAL_OF_VECTOR) | UInt32(GDAL_OF_READONLY)
        let opened = cOptions.map { $0.map { UnsafePointer($0) } }.withUnsafeBufferPointer { buf in
            sbt_GDALOpenEx(path, flags, nil, options.isEmpty ? nil : buf.baseAddress, nil)
        }
        guard let ds = opened else {
            throw ImportError("GDAL cannot open it as a vector file: \(lastError() ?? "no driver recognises it")", file: path)
        }
        return (ds, decision)
    }

    /// GDAL's last error message, if any.
    static func lastError() -> String? {
        guard let m = sbt_CPLGetLastErrorMsg(), m.pointee != 0 else { return nil }
        return String(cString: m)
    }

    /// Whether a layer of geometry type `type` can hold `content`.
    static func fits(_ type: OGRwkbGeometryType, _ content: ImportSource.Content) -> Bool {
        let flat = sbt_OGR_GT_Flatten(type)
        switch content {
        case .points: return flat == wkbPoint || flat == wkbMultiPoint
        case .segments:
            return [wkbLineString, wkbMultiLineString, wkbCircularString, wkbCompoundCurve, wkbMultiCurve].contains(flat)
        case .areas:
            return [wkbPolygon, wkbMultiPolygon, wkbCurvePolygon, wkbMultiSurface].contains(flat)
        }
    }

    static func pickLayer(_ ds: GDALDatasetH, name: String?, content: ImportSource.Content, path: String)
        throws(ImportError) -> OGRLayerH
    {
        let count = sbt_GDALDatasetGetLayerCount(ds)
        let layers = (0..<count).compactMap { sbt_GDALDatasetGetLayer(ds, $0) }
        func describe() -> String {
            layers.map { l in "\(String(cString: sbt_OGR_L_GetName(l))) \(String(cString: sbt_OGRGeometryTypeToName(sbt_OGR_L_GetGeomType(l))))" }
                .joined(separator: ", ")
        }
        if let name {
            guard let l = sbt_GDALDatasetGetLayerByName(ds, name) else {
                throw ImportError("no layer '\(name)' (have: \(describe()))", file: path)
            }
            return l
        }
        if layers.count == 1 { return layers[0] }
        let fitting = layers.filter { fits(sbt_OGR_L_GetGeomType($0), content) }
        guard fitting.count == 1 else {
            throw ImportError("\(fitting.count) layers hold \(content); name one (have: \(describe()))", file: path)
        }
        return fitting[0]
    }

    /// `AUTHORITY:CODE` of `srs` (identified by GDAL when the file gives only WKT, as a `.prj`
    /// does), else its WKT2; nil without a CRS.
    static func crsName(_ srs: OGRSpatialReferenceH?) -> String? {
        guard let srs else { return nil }
        func authority(_ s: OGRSpatialReferenceH) -> String? {
            guard let a = sbt_OSRGetAuthorityName(s, nil), let c = sbt_OSRGetAuthorityCode(s, nil) else { return nil }
            return "\(String(cString: a)):\(String(cString: c))"
        }
        if let a = authority(srs) { return a }
        if let clone = sbt_OSRClone(srs) {
            defer { sbt_OSRDestroySpatialReference(clone) }
            if sbt_OSRAutoIdentifyEPSG(clone) == OGRERR_NONE, let a = authority(clone) { return a }
        }
        var wkt: UnsafeMutablePointer<CChar>?
        let format = strdup("FORMAT=WKT2_2019")
        defer { free(format) }
        let options: [UnsafePointer<CChar>?] = [UnsafePointer(format), nil]
        guard sbt_OSRExportToWktEx(srs, &wkt, options) == OGRERR_NONE, let wkt else { return nil }
        defer { sbt_VSIFree(wkt) }
        return String(cString: wkt)
    }

    static func readFeatures(_ layer: OGRLayerH, path: String, into read: inout GDALLayerRecords) throws(ImportError) {
        let defn = sbt_OGR_L_GetLayerDefn(layer)
        let n = sbt_OGR_FD_GetFieldCount(defn)
        var names: [String] = []
        var types: [OGRFieldType] = []
        var booleans: [Bool] = []
        for i in 0..<n {
            let f = sbt_OGR_FD_GetFieldDefn(defn, i)
            names.append(String(cString: sbt_OGR_Fld_GetNameRef(f)))
            types.append(sbt_OGR_Fld_GetType(f))
            booleans.append(sbt_OGR_Fld_GetSubType(f) == OFSTBoolean)
        }
        // A layer without geometry (a bare DBF, a CSV) has none to miss: its records take their
        // place from x/y or from their points, as survey tables do.
        let hasGeometry = sbt_OGR_FD_GetGeomFieldCount(defn) > 0 && sbt_OGR_L_GetGeomType(layer) != wkbNone
        sbt_OGR_L_ResetReading(layer)
        while let f = sbt_OGR_L_GetNextFeature(layer) {
            defer { sbt_OGR_F_Destroy(f) }
            var fields: [(String, SourceValue)] = []
            fields.reserveCapacity(Int(n))
            for i in 0..<n {
                let value: SourceValue
                if sbt_OGR_F_IsFieldSetAndNotNull(f, i) == 0 {
                    value = .null
                } else {
                    switch types[Int(i)] {
                    case OFTInteger, OFTInteger64:
                        let v = sbt_OGR_F_GetFieldAsInteger64(f, i)
                        value = booleans[Int(i)] ? .bool(v != 0) : .number(Double(v))
                    case OFTReal:
                        value = .number(sbt_OGR_F_GetFieldAsDouble(f, i))
                    default:
                        value = .text(String(cString: sbt_OGR_F_GetFieldAsString(f, i)))
                    }
                }
                fields.append((names[Int(i)], value))
            }
            var geometry: Geometry?
            var geometryError: String?
            if let g = sbt_OGR_F_GetGeometryRef(f) {
                (geometry, geometryError) = decode(g, linearized: &read.linearized)
            } else if hasGeometry {
                geometryError = "feature has no geometry"
            }
            let fid = sbt_OGR_F_GetFID(f)
            read.records.append(SourceRecord(
                location: RecordLocation(file: path, unit: .fid, index: Int(fid)), fields: fields, geometry: geometry,
                geometryError: geometryError))
        }
        if let e = lastError(), sbt_CPLGetLastErrorType() == CE_Failure || sbt_CPLGetLastErrorType() == CE_Fatal {
            throw ImportError("GDAL failed while reading layer \(read.layer): \(e)", file: path)
        }
    }

    /// `g` as a model geometry via ISO WKB, curves linearized by GDAL's default step.
    static func decode(_ g: OGRGeometryH, linearized: inout Int) -> (Geometry?, String?) {
        if sbt_OGR_G_IsEmpty(g) != 0 { return (nil, "geometry is empty") }
        var linear: OGRGeometryH?
        if sbt_OGR_G_HasCurveGeometry(g, 0) != 0 {
            linear = sbt_OGR_G_GetLinearGeometry(g, 0, nil)
            linearized += 1
        }
        defer { if let linear { sbt_OGR_G_DestroyGeometry(linear) } }
        let source = linear ?? g
        var bytes = [UInt8](repeating: 0, count: Int(sbt_OGR_G_WkbSize(source)))
        guard sbt_OGR_G_ExportToIsoWkb(source, wkbNDR, &bytes) == OGRERR_NONE else {
            return (nil, "GDAL cannot export the geometry as WKB")
        }
        do { return (try WKB.read(bytes).geometry, nil) } catch { return (nil, "WKB: \(error)") }
    }
}
