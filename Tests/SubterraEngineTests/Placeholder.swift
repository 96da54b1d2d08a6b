import Testing

@Test func placeholder_SubterraEngineTests() { #expect(true) }
