print("subterra: not yet")
