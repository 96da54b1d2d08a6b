print("subterra-gen: not yet")
