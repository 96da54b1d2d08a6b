import Testing

@Test func placeholder_SubterraModelTests() { #expect(true) }
