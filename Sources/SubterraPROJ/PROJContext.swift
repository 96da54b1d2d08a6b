import CPROJ
import Foundation

/// What PROJ logs on one context; PROJ calls the log function on the thread using the context,
/// and a context is used by one thread at a time, so no lock.
final class _PROJLogBox {
    var last: String?
}

/// One `PJ_CONTEXT`, with PROJ's stderr logging replaced by a function that keeps the last
/// message for errors. One-thread object: never shared between threads concurrently.
final class _PROJContext {
    let ctx: OpaquePointer
    let log = _PROJLogBox()

    init() throws(PROJError) {
        guard let c = proj_context_create() else {
            throw PROJError(operation: "create context", message: "proj_context_create returned NULL (out of memory?)")
        }
        ctx = c
        proj_log_level(c, PJ_LOG_ERROR)
        // Unretained: the box lives as long as this object, which destroys the context.
        proj_log_func(c, Unmanaged.passUnretained(log).toOpaque()) { userdata, _, message in
            guard let userdata, let message else { return }
            Unmanaged<_PROJLogBox>.fromOpaque(userdata).takeUnretainedValue().last = String(cString: message)
        }
    }

    deinit { proj_context_destroy(ctx) }

    /// The error for the context's current errno, with PROJ's last log line when it says more.
    func error(_ operation: String, errno: Int32? = nil, pointIndex: Int? = nil) -> PROJError {
        let code = errno ?? proj_context_errno(ctx)
        var message = code != 0 ? proj_context_errno_string(ctx, code).map { String(cString: $0) } ?? "" : ""
        if let detail = log.last, !detail.isEmpty, !message.contains(detail) {
            // PROJ 9.1 has no text for some codes (e.g. 4096 for an unknown EPSG code): then the
            // log line is the whole message.
            message = message.isEmpty || message.hasPrefix("Unknown error") ? detail : "\(message) (\(detail))"
        }
        if message.isEmpty { message = "PROJ reported no detail" }
        return PROJError(operation: operation, message: message, code: code, pointIndex: pointIndex)
    }

    /// Forgets the last log line; PROJ has no public call to clear a context's errno, so
    /// transforms clear it through their `PJ` with `proj_errno_reset`.
    func resetLog() {
        log.last = nil
    }
}

/// An owned `PJ*`, destroyed with `proj_destroy` before its context goes.
final class _PJ {
    let context: _PROJContext
    let pj: OpaquePointer

    init(_ context: _PROJContext, _ pj: OpaquePointer) {
        self.context = context
        self.pj = pj
    }

    deinit { proj_destroy(pj) }
}
