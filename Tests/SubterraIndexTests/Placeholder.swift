import Testing

@Test func placeholder_SubterraIndexTests() { #expect(true) }
