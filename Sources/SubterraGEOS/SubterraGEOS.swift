// placeholder, replaced by the SubterraGEOS work
