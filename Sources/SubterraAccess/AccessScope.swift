import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel

/// What one user may see: the union of their roles' ``Grant``s. The one filter every answer of
/// the service passes through.
///
/// - A feature is visible when **some** grant admits it (its layer, owner and area).
/// - Its attributes are those of the grants that admit it (``fields(for:)``), so a role that
///   sees every field of gas does not open the fields of the water a second role shows.
/// - **Area rule (withheld, not clipped):** a pipe segment is visible only when it lies wholly
///   inside a grant's area. A segment crossing the boundary is withheld whole, so no vertex
///   outside the area ever leaves the server and no clipped geometry (with depths interpolated
///   at a cut the survey never measured) is invented. Dig checks still report a withheld
///   segment as a hidden utility (owner and contact only).
/// - No grants: nothing is visible (deny by default).
public struct AccessScope: Sendable {
    /// The user's grants; empty: nothing is visible.
    public let grants: [Grant]

    public init(grants: [Grant]) { self.grants = grants }

    /// A scope that sees nothing.
    public static let nothing = AccessScope(grants: [])

    /// Layers any grant shows.
    public var layers: Set<LayerCode> { grants.reduce(into: []) { $0.formUnion($1.layers) } }

    /// Owners the grants restrict to, nil when some grant shows any owner.
    public var owners: Set<String>? {
        var out: Set<String> = []
        for g in grants {
            guard let o = g.owners else { return nil }
            out.formUnion(o)
        }
        return out
    }

    /// Whether any grant allows reading the audit log and every stored dig check.
    public var isAdmin: Bool { grants.contains { $0.admin } }

    /// Whether any grant shows `s`. O(grants), plus an exact GEOS containment test per grant
    /// with an area whose bounds hold the segment's.
    public func admits(_ s: PipeSegment) -> Bool { grants.contains { $0.admits(s) } }

    /// Layers any grant may edit (and see).
    public var editLayers: Set<LayerCode> { grants.reduce(into: []) { $0.formUnion($1.editLayers.intersection($1.layers)) } }

    /// Whether some grant lets its holder write `s` (``Grant/mayEdit(_:)``). O(grants), plus
    /// the area test of ``admits(_:)``.
    public func mayEdit(_ s: PipeSegment) -> Bool { grants.contains { $0.mayEdit(s) } }

    /// Attribute groups visible on `s`: the union over the grants that admit it (empty when
    /// none does).
    public func fields(for s: PipeSegment) -> Set<VisibleField> { visibility(of: s) ?? [] }

    /// ``admits(_:)`` and ``fields(for:)`` in one pass over the grants (each grant's area test
    /// runs once): nil when no grant shows `s`, else the groups visible on it.
    public func visibility(of s: PipeSegment) -> Set<VisibleField>? {
        var out: Set<VisibleField>?
        for g in grants where g.admits(s) {
            if out == nil { out = g.fields } else { out!.formUnion(g.fields) }
        }
        return out
    }

    /// Whether an operator area of `owner` covering `layers` may be named in an answer: some
    /// grant shows that owner and one of the layers (areas have no geometry in answers).
    public func admitsArea(owner: String, layers areaLayers: [LayerCode]) -> Bool {
        grants.contains { Self.grant($0, admitsArea: owner, areaLayers) }
    }

    /// The fields an answer may show of such an area: those of the grants that admit it.
    public func fields(forArea owner: String, layers areaLayers: [LayerCode]) -> Set<VisibleField> {
        grants.reduce(into: []) { if Self.grant($1, admitsArea: owner, areaLayers) { $0.formUnion($1.fields) } }
    }

    private static func grant(_ g: Grant, admitsArea owner: String, _ areaLayers: [LayerCode]) -> Bool {
        (g.owners?.contains(owner) ?? true) && (areaLayers.isEmpty ? !g.layers.isEmpty : areaLayers.contains { g.layers.contains($0) })
    }

    /// `filter` narrowed to what this scope shows: layers and owners intersected (so the index
    /// scan skips hidden rows cheaply), and ``admits(_:)`` as a predicate for the exact rule.
    public func restricting(_ filter: PipeFilter) -> PipeFilter {
        var out = filter
        let mine = layers
        out.layers = filter.layers.map { $0.intersection(mine) } ?? mine
        if let o = owners { out.owners = filter.owners.map { $0.intersection(o) } ?? o }
        let previous = filter.predicate
        let scope = self
        out.predicate = { s in (previous?(s) ?? true) && scope.admits(s) }
        return out
    }

    /// The engine filter of this scope alone.
    public var filter: PipeFilter { restricting(.all) }
}

/// Users and roles as configured, resolved against the map: who holds which grants.
public struct AccessPolicy: Sendable {
    /// A user: name, stored API key hash and roles.
    public struct User: Sendable, Hashable {
        public var name: String
        public var keyHash: APIKey.Stored?
        public var roles: [String]

        public init(name: String, keyHash: APIKey.Stored?, roles: [String]) {
            self.name = name
            self.keyHash = keyHash
            self.roles = roles
        }
    }

    public let users: [User]
    public let grants: [String: Grant]
    /// Whom to call about an owner's utilities (owner name → phone or address), for hidden
    /// utility notices.
    public let contacts: [String: String]

    /// Resolves `roles` and checks that every user's role exists.
    /// - Throws: ``AccessError`` naming the user or role and the member.
    public init(users: [User], roles: [String: RoleConfig], contacts: [String: String], codes: CodeCatalogue) throws(AccessError) {
        var g: [String: Grant] = [:]
        for (name, r) in roles.sorted(by: { $0.key < $1.key }) { g[name] = try Grant(role: name, config: r, codes: codes) }
        var seen: Set<String> = []
        for (i, u) in users.enumerated() {
            guard !u.name.isEmpty else { throw AccessError("users[\(i)].name is empty") }
            guard seen.insert(u.name).inserted else { throw AccessError("users[\(i)].name: '\(u.name)' appears twice") }
            for r in u.roles where g[r] == nil {
                throw AccessError("users[\(i)].roles: unknown role '\(r)' (\(g.keys.sorted().joined(separator: ", ")))")
            }
        }
        self.users = users
        self.grants = g
        self.contacts = contacts
    }

    /// The scope of `user`'s roles (nothing for a user with none).
    public func scope(roles: [String]) -> AccessScope {
        AccessScope(grants: roles.compactMap { grants[$0] })
    }

    /// The user whose stored hash `key` matches, nil when none does. Every user's hash is
    /// computed (no early exit), so the time taken does not tell which user, if any, matched.
    public func user(apiKey key: String) -> User? {
        var found: User?
        for u in users {
            if let h = u.keyHash, h.matches(key), found == nil { found = u }
        }
        return found
    }

    /// The contact line for `owner`'s utilities.
    public func contact(for owner: String) -> String {
        contacts[owner] ?? "the operator \(owner) (no contact configured)"
    }
}
