/// A map that follows a store of record (a PostGIS follower): it answers at a store version
/// that only grows, and can wait for a given one, which is read-your-writes by version token
/// across machines. A writer learns the version its commit made (the store reports it); a reader
/// of another engine waits until that engine answers at it.
///
/// ```swift
/// func readAfterWrite(_ map: any FollowingMap, version: Int64) async throws -> [PipeHit] {
///     guard await map.waitForStoreVersion(version, timeout: .seconds(2)) else { throw Timeout() }
///     return try map.within(distance: 5, of: .point(site), crs: nil, filter: PipeFilter(), allParts: false)
/// }
/// ```
public protocol FollowingMap: PipeMap {
    /// The store version the map answers at now. Raised only after the map shows it whole, so a
    /// query started after reading `v` here answers at `v` or later.
    var storeVersion: Int64 { get }
    /// Waits, without blocking a thread, until ``storeVersion`` is at least `version`; false
    /// when `timeout` passed first (the version may not exist yet, or the map lags).
    func waitForStoreVersion(_ version: Int64, timeout: Duration) async -> Bool
}
