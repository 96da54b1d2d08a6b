import SubterraEngine

/// A follower answers as its current engine (``PostGISFollower/engine``), so `subterra serve`
/// can serve it where it serves any map. Each call takes the engine once: one call sees one
/// version; two calls of one request (ids, then records) may see two consecutive versions.
extension PostGISFollower: FollowingMap, ForwardingPipeMap {
    /// ``appliedVersion``.
    public var storeVersion: Int64 { appliedVersion }

    /// ``engine``: the one answering now.
    public var forwardee: any PipeMap { engine }
}
