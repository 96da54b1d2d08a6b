extension JSONValue {
    /// Parses one JSON document (RFC 8259) into a value, with the GeoJSON reader's hand-written
    /// single-pass parser: no Foundation, no `Codable` round trip.
    ///
    /// Objects keep their members in document order; a repeated key is kept twice and the
    /// subscript answers the last (callers that must refuse repeats check first, as
    /// `JSONPrecheck` does). Numbers must be finite doubles; string escapes must be valid (invalid
    /// UTF-8 bytes are replaced by U+FFFD, as `String(decoding:as:)` does). A UTF-8 byte order mark is skipped; anything but white space after the
    /// value is refused.
    ///
    /// ```swift
    /// let v = try JSONValue.parse(Array(#"{"depth": 1.5, "crs": "EPSG:4549"}"#.utf8))
    /// v.objectValue?["depth"]?.numberValue   // 1.5
    /// ```
    /// - Parameter limits: `maxDepth` bounds the nesting (one level per array or object; the
    ///   parser recurses once per level) and `maxBytes` the input; `maxVertices` is not used.
    /// - Throws: `GeometryError` with the JSON path and byte offset of the first problem.
    /// - Complexity: O(n) in the byte count; stack O(`limits.effectiveMaxDepth`).
    public static func parse(_ bytes: [UInt8], limits: ParseLimits = .default) throws(GeometryError) -> JSONValue {
        if bytes.count > limits.maxBytes { throw limits.bytesError("", count: bytes.count) }
        let r: Result<JSONValue, GeometryError> = bytes.withUnsafeBufferPointer { buf in
            var p = _GeoJSONParser(b: buf, limits: limits)
            do throws(GeometryError) {
                return .success(try p.parseValueDocument())
            } catch {
                return .failure(error)
            }
        }
        return try r.get()
    }

    /// Parses one JSON document from text; see `parse(_:limits:)`.
    public static func parse(_ text: String, limits: ParseLimits = .default) throws(GeometryError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }
}

extension _GeoJSONParser {
    /// A whole document that is one JSON value.
    mutating func parseValueDocument() throws(GeometryError) -> JSONValue {
        if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { i = 3 }
        skipSpace()
        if i >= b.count { throw fail("empty input, expected a JSON value") }
        let v = try value()
        skipSpace()
        if i < b.count { throw fail("unexpected \(found()) after the JSON value") }
        return v
    }
}
