import Foundation
import SubterraAccess
import SubterraEngine
import SubterraGeometry
import Testing

@testable import SubterraService

/// Which version a stored dig check records: the answering engine's, translated from the
/// report's `mapVersion`, only when that engine was answering before the check started.
@Suite struct DigCheckDataVersionTests {
    @Test func theEngineVersionIsUsedOnlyWhenTheEngineAnsweredFromTheStart() throws {
        let engine = Fixture.engine
        let map = UInt64(3)
        // The engine was answering before the check: the report's mapVersion, translated.
        #expect(SubterraServer.dataVersion(ofMapVersion: .number(Double(map)), startedAt: 1, engine: engine)
                == .number(Double(engine.dataVersion(atMapVersion: map))))
        // No engine yet when the check started (a snapshot file answered, or a follower): the
        // version read before the check, whatever mapVersion the report names.
        #expect(SubterraServer.dataVersion(ofMapVersion: .number(Double(map)), startedAt: 41, engine: nil) == .number(41))
        #expect(SubterraServer.dataVersion(ofMapVersion: nil, startedAt: nil, engine: nil) == .null)
        // A report without a usable mapVersion falls back to the start version too.
        #expect(SubterraServer.dataVersion(ofMapVersion: .string("x"), startedAt: 9, engine: engine) == .number(9))
        #expect(SubterraServer.dataVersion(ofMapVersion: .number(-1), startedAt: 9, engine: engine) == .number(9))
    }
}

/// A role's area must be a valid polygon: GEOS's containment is defined for valid ones only.
@Suite struct GrantAreaTests {
    @Test func anInvalidAreaIsRefusedNamingTheRoleAndPlace() throws {
        let codes = Fixture.engine.codes
        let bowTie = "POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))"
        #expect {
            try Grant(role: "west", config: RoleConfig(layers: ["*"], area: bowTie), codes: codes)
        } throws: { error in
            let m = (error as? AccessError)?.message ?? ""
            return m.hasPrefix("roles.west.area is not a valid polygon") && (m.contains("(5.0, 5.0)") || m.contains("(5, 5)"))
        }
        let square = "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))"
        let g = try Grant(role: "west", config: RoleConfig(layers: ["*"], area: square), codes: codes)
        #expect(g.area != nil)
    }
}
