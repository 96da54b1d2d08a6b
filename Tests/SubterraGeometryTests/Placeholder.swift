import Testing

@Test func placeholder_SubterraGeometryTests() { #expect(true) }
