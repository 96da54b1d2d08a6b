import CGEOS
import Foundation
import SubterraGeometry

/// Collects what GEOS reports through its message handlers.
///
/// GEOS calls the handlers synchronously on the thread running the operation, and a context is
/// only ever used by one thread at a time, so the box needs no lock.
final class _GEOSMessageBox {
    var lastError: String?
    var lastNotice: String?

    func reset() {
        lastError = nil
        lastNotice = nil
    }
}

/// One GEOS context (`GEOSContextHandle_t`): the unit of GEOS thread safety.
///
/// A context is deliberately **not** `Sendable`: GEOS allows one thread at a time per handle,
/// and the compiler now refuses to share a context between concurrent tasks. Give each owner its
/// own (`GEOSContext()` is cheap: about one allocation), or borrow one from the process-wide pool
/// with ``GEOS/withContext(_:)``, which is safe from any number of threads at once.
///
/// Every operation converts Subterra ``Geometry`` values to GEOS, runs one GEOS call and
/// converts back; GEOS geometry handles never escape and are always destroyed, also on error.
/// GEOS errors (and, for failed calls, notices) become a ``GEOSError`` carrying GEOS's text.
///
/// The hot query path uses the exact Swift kernels of `SubterraGeometry`; this type is for
/// constructions (buffer, overlay, validity repair) and as a test oracle.
public final class GEOSContext {
    @usableFromInline let handle: GEOSContextHandle_t
    let messages = _GEOSMessageBox()
    private var _wktReader: OpaquePointer?
    private var _wktWriter: OpaquePointer?
    private var _wkbReader: OpaquePointer?
    private var _wkbWriter: OpaquePointer?

    /// Creates a context and routes GEOS's error and notice messages into it.
    ///
    /// - Throws: ``GEOSError`` if GEOS cannot allocate a context.
    public init() throws(GEOSError) {
        guard let h = GEOS_init_r() else {
            throw GEOSError(operation: "create context", message: "GEOS_init_r returned NULL (out of memory?)")
        }
        handle = h
        // Unretained: the box lives exactly as long as this context, which owns the handle.
        let box = Unmanaged.passUnretained(messages).toOpaque()
        _ = GEOSContext_setErrorMessageHandler_r(h, { message, userdata in
            guard let message, let userdata else { return }
            Unmanaged<_GEOSMessageBox>.fromOpaque(userdata).takeUnretainedValue().lastError = String(cString: message)
        }, box)
        _ = GEOSContext_setNoticeMessageHandler_r(h, { message, userdata in
            guard let message, let userdata else { return }
            Unmanaged<_GEOSMessageBox>.fromOpaque(userdata).takeUnretainedValue().lastNotice = String(cString: message)
        }, box)
    }

    deinit {
        if let r = _wktReader { GEOSWKTReader_destroy_r(handle, r) }
        if let w = _wktWriter { GEOSWKTWriter_destroy_r(handle, w) }
        if let r = _wkbReader { GEOSWKBReader_destroy_r(handle, r) }
        if let w = _wkbWriter { GEOSWKBWriter_destroy_r(handle, w) }
        GEOS_finish_r(handle)
    }

    /// The version of the GEOS library in use, e.g. `"3.11.1-CAPI-1.17.1"`.
    public static var libraryVersion: String { String(cString: GEOSversion()) }

    // MARK: - Error plumbing

    /// The error for a failed GEOS call: GEOS's last error, else its last notice.
    func failure(_ operation: String, fallback: String = "GEOS reported an exception") -> GEOSError {
        GEOSError(operation: operation, message: messages.lastError ?? messages.lastNotice ?? fallback)
    }

    /// Returns a GEOS result pointer as an owned geometry, or throws GEOS's message for NULL.
    func own(_ ptr: OpaquePointer?, _ operation: String) throws(GEOSError) -> _OwnedGeometry {
        guard let ptr else { throw failure(operation) }
        return _OwnedGeometry(self, ptr)
    }

    /// Interprets a GEOS predicate result: 1 true, 0 false, anything else an exception.
    func predicate(_ r: CChar, _ operation: String) throws(GEOSError) -> Bool {
        switch r {
        case 1: return true
        case 0: return false
        default: throw failure(operation)
        }
    }

    /// Runs a unary GEOS construction on a Subterra geometry.
    func unary(
        _ g: Geometry, _ operation: String, _ call: (GEOSContextHandle_t, OpaquePointer) -> OpaquePointer?
    ) throws(GEOSError) -> Geometry {
        let a = try makeGEOS(g, operation)
        messages.reset()
        let r = try own(call(handle, a.pointer), operation)
        return try makeGeometry(r.pointer, operation)
    }

    /// Runs a binary GEOS construction on two Subterra geometries.
    func binary(
        _ g1: Geometry, _ g2: Geometry, _ operation: String,
        _ call: (GEOSContextHandle_t, OpaquePointer, OpaquePointer) -> OpaquePointer?
    ) throws(GEOSError) -> Geometry {
        let a = try makeGEOS(g1, operation)
        let b = try makeGEOS(g2, operation)
        messages.reset()
        let r = try own(call(handle, a.pointer, b.pointer), operation)
        return try makeGeometry(r.pointer, operation)
    }

    // MARK: - Lazily made readers and writers (one set per context, reused)

    var wktReader: OpaquePointer {
        get throws(GEOSError) {
            try cached(&_wktReader, "create WKT reader") { GEOSWKTReader_create_r($0) }
        }
    }

    var wktWriter: OpaquePointer {
        get throws(GEOSError) {
            try cached(&_wktWriter, "create WKT writer") { h in
                guard let w = GEOSWKTWriter_create_r(h) else { return nil }
                // Z when present, trailing zeros trimmed. GEOS counts decimal places, not
                // significant digits; 24 keeps every double of magnitude above 1e-8 exact. GEOS
                // formats into a 128-byte stack buffer, so `wkt(_:)` refuses coordinates whose
                // integer part would overflow it (see `wktMaxMagnitude`).
                GEOSWKTWriter_setTrim_r(h, w, 1)
                GEOSWKTWriter_setRoundingPrecision_r(h, w, Int32(Self.wktDecimals))
                GEOSWKTWriter_setOutputDimension_r(h, w, 3)
                GEOSWKTWriter_setOld3D_r(h, w, 0)
                return w
            }
        }
    }

    /// Decimal places GEOS writes in WKT.
    static let wktDecimals = 24
    /// The largest coordinate magnitude GEOS 3.11's WKT writer formats without overrunning its
    /// 128-byte buffer at ``wktDecimals`` places (sign + 91 digits + point + 24 decimals < 128).
    static let wktMaxMagnitude = 1e90

    var wkbReader: OpaquePointer {
        get throws(GEOSError) {
            try cached(&_wkbReader, "create WKB reader") { GEOSWKBReader_create_r($0) }
        }
    }

    var wkbWriter: OpaquePointer {
        get throws(GEOSError) {
            try cached(&_wkbWriter, "create WKB writer") { h in
                guard let w = GEOSWKBWriter_create_r(h) else { return nil }
                GEOSWKBWriter_setOutputDimension_r(h, w, 3)
                GEOSWKBWriter_setByteOrder_r(h, w, Int32(GEOS_WKB_NDR.rawValue))
                return w
            }
        }
    }

    /// The reader or writer in `slot`, made (and configured) by `make` on first use.
    private func cached(
        _ slot: inout OpaquePointer?, _ operation: String, _ make: (GEOSContextHandle_t) -> OpaquePointer?
    ) throws(GEOSError) -> OpaquePointer {
        if let made = slot { return made }
        messages.reset()
        guard let made = make(handle) else { throw failure(operation) }
        slot = made
        return made
    }
}

/// A GEOS geometry handle with exactly one owner, destroyed with its context's handle.
///
/// Holds its context strongly so the handle can never outlive the `GEOSContextHandle_t` that made
/// it. Ownership passes to GEOS (when the geometry becomes part of a collection or polygon) only
/// through ``release()``, after which `deinit` does nothing.
final class _OwnedGeometry {
    let context: GEOSContext
    private var ptr: OpaquePointer?

    init(_ context: GEOSContext, _ ptr: OpaquePointer) {
        self.context = context
        self.ptr = ptr
    }

    var pointer: OpaquePointer { ptr! }

    /// Hands the handle to a GEOS call that takes ownership.
    func release() -> OpaquePointer {
        let p = ptr!
        ptr = nil
        return p
    }

    deinit {
        if let ptr { GEOSGeom_destroy_r(context.handle, ptr) }
    }
}

/// Namespace for the process-wide pool of GEOS contexts.
public enum GEOS {
    /// Runs `body` with a GEOS context that no other thread uses while `body` runs.
    ///
    /// Contexts come from a small lock-protected pool, so concurrent callers (any number of
    /// threads or tasks) each get their own and run in parallel; the lock is held only for the
    /// check-out and check-in, never during GEOS work. A context that `body` keeps a reference to
    /// is not returned to the pool, so it can never be handed to a second thread.
    ///
    /// ```swift
    /// let zone = try GEOS.withContext { try $0.buffer(pipe, distance: 1.5) }
    /// ```
    /// - Complexity: O(1) besides `body`; the first use on each concurrently busy slot creates a
    ///   context. Creating one fails only when `GEOS_init_r` cannot allocate, which stops the
    ///   process: there is nothing sensible to continue with.
    public static func withContext<R, E: Error>(_ body: (GEOSContext) throws(E) -> R) throws(E) -> R {
        var context = _GEOSContextPool.shared.checkOut()
        defer { _GEOSContextPool.shared.checkIn(&context) }
        return try body(context)
    }
}

/// Free contexts, shared by all threads; only the array is guarded, never GEOS work.
final class _GEOSContextPool: @unchecked Sendable {
    static let shared = _GEOSContextPool()
    private let lock = NSLock()
    private var free: [GEOSContext] = []
    /// Contexts kept for reuse; more are made when more threads are busy, and dropped after.
    private let maxFree = 16

    func checkOut() -> GEOSContext {
        lock.lock()
        let c = free.popLast()
        lock.unlock()
        if let c { return c }
        // GEOS_init_r fails only without memory; there is no sensible way to continue then.
        guard let made = try? GEOSContext() else { fatalError("GEOS_init_r failed: out of memory") }
        return made
    }

    func checkIn(_ context: inout GEOSContext) {
        // A context the caller kept a reference to must not be shared with another thread.
        guard isKnownUniquelyReferenced(&context) else { return }
        context.messages.reset()
        lock.lock()
        if free.count < maxFree { free.append(context) }
        lock.unlock()
    }
}
