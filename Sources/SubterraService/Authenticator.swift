import Foundation
import JWTKit
import SubterraAccess

/// Who made a request, and what they may see.
public struct Principal: Sendable {
    /// The user name (API key) or the token's `sub` (JWT).
    public var name: String
    public var roles: [String]
    public var scope: AccessScope
    /// `"api-key"` or `"jwt"`.
    public var method: String
}

/// The claims a Subterra bearer token carries: `sub` (the user), `roles` (role names of the
/// configuration), `exp` (required, checked) and optionally `iss`.
public struct ServiceTokenPayload: JWTPayload {
    public var sub: SubjectClaim
    public var exp: ExpirationClaim
    public var roles: [String]
    public var iss: IssuerClaim?

    public init(sub: String, roles: [String], expires: Date, issuer: String? = nil) {
        self.sub = SubjectClaim(value: sub)
        self.exp = ExpirationClaim(value: expires)
        self.roles = roles
        self.iss = issuer.map { IssuerClaim(value: $0) }
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Turns an `Authorization: Bearer …` or `X-API-Key` credential into a ``Principal``.
///
/// A credential starting with ``APIKey/prefix`` is an API key, checked against every user's
/// salted hash; anything else is tried as a JWT when keys are configured. Every failure gives
/// the same answer to the client (401) and its reason to the audit log only.
public struct Authenticator: Sendable {
    public let policy: AccessPolicy
    let jwtKeys: JWTKeyCollection?
    let issuer: String?

    /// - Throws: ``ConfigError`` when a JWT key cannot be read.
    public init(policy: AccessPolicy, jwt: JWTSettings?) async throws(ConfigError) {
        self.policy = policy
        issuer = jwt?.issuer
        guard let jwt else {
            jwtKeys = nil
            return
        }
        let keys = JWTKeyCollection()
        if let s = jwt.hmacSecret { await keys.add(hmac: HMACKey(from: s), digestAlgorithm: .sha256) }
        if let pem = jwt.es256PublicKeyPEM {
            let key: ES256PublicKey
            do { key = try ES256PublicKey(pem: pem) } catch {
                throw ConfigError("jwt.es256PublicKey is not a PEM P-256 public key: \(error)")
            }
            await keys.add(ecdsa: key)
        }
        jwtKeys = keys
    }

    /// Why authentication failed (for the audit log, never the client).
    public enum Failure: String, Error, Sendable {
        case missing = "no credential"
        case unknownKey = "unknown API key"
        case badToken = "invalid or expired token"
        case unknownUser = "token names no configured role"
    }

    /// The principal of `credential`.
    public func authenticate(_ credential: String?) async -> Result<Principal, Failure> {
        guard let credential, !credential.isEmpty else { return .failure(.missing) }
        if credential.hasPrefix(APIKey.prefix) || jwtKeys == nil {
            guard let u = policy.user(apiKey: credential) else { return .failure(.unknownKey) }
            return .success(Principal(name: u.name, roles: u.roles, scope: policy.scope(roles: u.roles), method: "api-key"))
        }
        guard let jwtKeys else { return .failure(.badToken) }
        let payload: ServiceTokenPayload
        do { payload = try await jwtKeys.verify(credential, as: ServiceTokenPayload.self) } catch { return .failure(.badToken) }
        if let issuer, payload.iss?.value != issuer { return .failure(.badToken) }
        // Roles the configuration does not know grant nothing; a token with none is refused.
        let known = payload.roles.filter { policy.grants[$0] != nil }
        guard !known.isEmpty else { return .failure(.unknownUser) }
        return .success(Principal(name: payload.sub.value, roles: known, scope: policy.scope(roles: known), method: "jwt"))
    }
}
