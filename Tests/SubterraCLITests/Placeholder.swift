import Testing

@Test func placeholder_SubterraCLITests() { #expect(true) }
