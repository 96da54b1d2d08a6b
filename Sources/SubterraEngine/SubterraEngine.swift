// placeholder, replaced by the SubterraEngine work
