import Foundation
import SubterraModel
@testable import SubterraPostGIS
import Testing

/// A store URL's password never reaches a message: not the description, not an error, not the
/// redacted argument the CLI prints. Needs no server.
@Suite struct PostGISLocationTests {
    @Test func passwordsNeverShow() throws {
        let l = try PostGISLocation(url: "postgresql://ana:s3cr%40t@db.example:6543/city")
        #expect(l.password == "s3cr@t" && l.user == "ana" && l.port == 6543 && l.database == "city")
        #expect(l.description == "postgresql://ana@db.example:6543/city")
        #expect(PostGISLocation.redacted("postgresql://ana:s3cr%40t@db.example:6543/city") == "postgresql://ana@db.example:6543/city")
        #expect(PostGISLocation.redacted("postgres://ana:p:w@h/db") == "postgres://ana@h/db")
        #expect(PostGISLocation.redacted("postgresql://ana@h/db") == "postgresql://ana@h/db")
        #expect(PostGISLocation.redacted("city.gpkg") == "city.gpkg")
        for bad in ["postgresql://:hunter2@/db", "postgresql://ana:hunter2@h/", "postgresql://ana:hunter2@h/a/b"] {
            do {
                _ = try PostGISLocation(url: bad)
                Issue.record("\(bad) must be refused")
            } catch {
                #expect(!"\(error)".contains("hunter2"), "\(error)")
            }
        }
    }
}
